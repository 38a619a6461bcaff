// sup.stop()'s options: a handover wait that is no number of milliseconds is refused by name, and
// the member keeps running; a valid one leaves.
import { describe, it, expect, afterEach } from 'vitest';
import { start, type Supervisor } from '../src/index.js';
import { InvalidOptionError } from '@trellis/core';

const base = { scope: 'stop-options', secret: 'stop-options-secret', kinds: {}, heartbeatMs: 100, failureTimeoutMs: 600, syncIntervalMs: 200 };
const running: Supervisor[] = [];
afterEach(async () => { await Promise.all(running.splice(0).map((s) => s.kill())); });

describe('sup.stop({ handoverWaitMs })', () => {
  it('refuses a negative or non-number wait with InvalidOptionError naming it, and still runs; a wait of 0 leaves', async () => {
    const sup = await start({ ...base, name: 'a', listen: { host: '127.0.0.1', port: 0 } });
    running.push(sup);
    for (const bad of [-1, Number.NaN, '100' as unknown as number]) {
      const e = await sup.stop({ handoverWaitMs: bad }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InvalidOptionError);
      expect((e as InvalidOptionError).option).toBe('handoverWaitMs');
      expect(sup.running).toBe(true);
    }
    await sup.stop({ handoverWaitMs: 0 });
    expect(sup.running).toBe(false);
  });
});
