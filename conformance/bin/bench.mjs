#!/usr/bin/env node
// npm run bench -- [name ...] [options]: runs conformance/bench/<name>.mjs (all when no name is
// given); each prints one JSON object per line: {"bench","metric","value","unit",...}.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// Modules the benches import, not benches themselves.
const HELPERS = new Set(['ring.mjs', 'placement-reference.mjs', 'frame-mix.mjs', 'cluster-steps.mjs']);
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench');
const available = readdirSync(dir).filter((f) => f.endsWith('.mjs') && !HELPERS.has(f) && !f.startsWith('gen-')).map((f) => f.slice(0, -4));
const args = process.argv.slice(2);
const names = args.filter((a) => available.includes(a));
const rest = args.filter((a) => !available.includes(a));
if (args.length && names.length === 0 && !args[0].startsWith('-')) {
  console.error(`unknown bench '${args[0]}'; available: ${available.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of names.length ? names : available) {
  const r = spawnSync(process.execPath, [join(dir, `${name}.mjs`), ...rest], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
