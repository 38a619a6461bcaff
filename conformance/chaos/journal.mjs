// Reading the children's journals (fixtures/journal.mjs writes them) and writing the harness's
// own logs next to them, so a failed run can be read afterwards.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every record of every j-*.jsonl in `dir`; a torn last line (writer killed mid-write) is skipped. */
export function readJournals(dir) {
  const out = [];
  for (const f of readdirSync(dir)) {
    if (!/^j-\d+\.jsonl$/.test(f)) continue;
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line) continue;
      try { out.push(JSON.parse(line)); } catch { /* torn line */ }
    }
  }
  return out;
}

/** Writes one JSON value per line to `dir/name`. */
export function writeLog(dir, name, rows) {
  writeFileSync(join(dir, name), rows.map((r) => JSON.stringify(r, (_k, v) => (v === Infinity ? 'Infinity' : v))).join('\n') + '\n');
}
