import { readFileSync } from 'node:fs';
import { testingWasmUrl } from '@trellis/core/testing';
import { runSeed } from '/work/main/conformance/dist/sim/run.js';
const mod = new WebAssembly.Module(readFileSync(testingWasmUrl));
const log = [];
runSeed(mod, 3141, {
  onTrace: (l) => { if (/j4|n1/.test(l) && /member_|dial|duplicate|c3/.test(l)) log.push('T ' + l); },
  observe: (w, n, fx) => { if (w.now < 0) return; for (const e of fx) {
    if (e.type === 'wake') continue;
    if (e.type === 'send') { if (e.bytes[2] === 14 || e.bytes[2] === 15 || e.bytes[2] === 34 || e.bytes[2] <= 2) log.push(`${w.now} ${n.name} send link ${e.link} type ${e.bytes[2]} ${e.bytes.length}B`); continue; }
    const s = JSON.stringify(e); if (/c3|close|dial|member/.test(s)) log.push(`${w.now} ${n.name}#${n.inc} ${s.slice(0, 200)}`);
  } },
});
console.log(log.filter((l) => /j4|n1/.test(l)).join('\n'));
