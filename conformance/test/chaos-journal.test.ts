// The chaos journal names each writer by more than its pid: two worker threads of one Node
// process, one after the other, journal distinct origins (Node's workers share the process's
// time origin, so the thread id must be part of it), or the checker would merge their instances.
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain ES module without types
import { readJournals } from '../chaos/journal.mjs';

const journalUrl = new URL('../fixtures/journal.mjs', import.meta.url).href;

function journalInWorker(dir: string): Promise<void> {
  const code = `import { journal } from ${JSON.stringify(journalUrl)}; import { parentPort } from 'node:worker_threads';
journal(${JSON.stringify(dir)}, 'start', 'x', 'a', 'worker'); parentPort.postMessage('done');`;
  const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
  return new Promise((resolve, reject) => { w.once('message', () => { void w.terminate(); resolve(); }); w.once('error', reject); });
}

describe('chaos journal', () => {
  it('two worker threads of one process, one after the other, journal distinct origins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-journal-'));
    try {
      await journalInWorker(dir);
      await journalInWorker(dir);
      const recs = readJournals(dir) as Array<{ pid: number; origin: string }>;
      expect(recs.length).toBe(2);
      expect(recs[0].pid).toBe(recs[1].pid);
      expect(recs[0].origin).not.toBe(recs[1].origin);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
