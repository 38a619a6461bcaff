import { readFileSync } from 'node:fs';
import { releaseWasmUrl } from '@trellis/core';
import { runSeed } from './conformance/dist/sim/run.js';
import { World } from './conformance/dist/sim/world.js';
const mod = new WebAssembly.Module(readFileSync(releaseWasmUrl));
const origObs = World.prototype.addNode;
const log = [];
World.prototype.addNode = function (name, o) {
  const r = origObs.call(this, name, o);
  log.push(`${this.now} addNode ${name} seeds=${o.seeds}`);
  if (!this.__hooked) { this.__hooked = true; this.observers.push((w, n, fx) => { for (const e of fx) { if (e.type === 'send' || e.type === 'wake') continue; const s = JSON.stringify(e); log.push(`${w.now} ${n.name}#${n.inc} ${s}`); } }); }
  return r;
};
for (const m of ['crash', 'leave', 'partition', 'heal', 'pause', 'resume', 'restart', 'startChild', 'terminateChild']) {
  const o = World.prototype[m];
  World.prototype[m] = function (...a) { const r = o.apply(this, a); log.push(`${this.now} ** ${m} ${JSON.stringify(a).slice(0, 150)} -> ${typeof r === 'number' ? '#' + r : ''}`); return r; };
}
const r = runSeed(mod, Number(process.argv[2]), {});
console.log(r.violations);
const pat = new RegExp(process.argv[3]);
console.log(log.filter((l) => pat.test(l)).slice(-Number(process.argv[4] ?? 60)).join('\n'));
