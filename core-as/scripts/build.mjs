// Builds the Wasm core (asc, from the root asconfig.json) and the TypeScript packages (tsc -b).
// Each step runs only when its inputs are newer than its outputs, so `npm test` stays cheap
// on a warm tree and a fresh clone still builds everything.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeGenerated } from './gen-boundary.mjs';

// core-as/src/generated/boundary.ts: the boundary codes for the binding, read from core-as/assembly.
writeGenerated();

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function newest(dir, exts) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'dist' && e.name !== 'build') t = Math.max(t, newest(p, exts)); }
    else if (exts.some((x) => e.name.endsWith(x))) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const force = process.argv.includes('--force');

const asSrc = Math.max(newest(join(root, 'core-as', 'assembly'), ['.ts']), mtime(join(root, 'asconfig.json')));
// release: what hosts load (no planted bugs, probes or invariants). testing and debug compile
// with TRELLIS_TESTING (asconfig.json) and add the probe exports of index-testing.ts, which asc
// takes as an extra entry on the command line (asconfig entries are not per target).
const targets = [
  { target: 'release', entries: [] },
  { target: 'testing', entries: ['core-as/assembly/index-testing.ts'] },
  { target: 'debug', entries: ['core-as/assembly/index-testing.ts'] },
];
for (const { target, entries } of targets) {
  const out = join(root, 'core-as', 'build', `${target}.wasm`);
  if (force || mtime(out) < asSrc) {
    execFileSync(bin('asc'), [...entries, '--config', 'asconfig.json', '--target', target], { cwd: root, stdio: 'inherit' });
  }
}
// tsc -b is incremental by itself (tsbuildinfo).
execFileSync(bin('tsc'), ['-b', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
