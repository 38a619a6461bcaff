import { readFileSync } from 'node:fs';
import { releaseWasmUrl } from '@trellis/core';
import { runSeed } from './dist/sim/run.js';
const mod = new WebAssembly.Module(readFileSync(releaseWasmUrl));
const log = [];
let last = -1;
const r = runSeed(mod, Number(process.argv[2]), { harsh: true, idleLinks: false,
  onTrace: (l) => { if (/stalls/.test(l)) log.push(l); },
  observe: (w, n, fx) => { if (n.name === process.argv[3]) { log.push(`${w.now} step ${n.name} gap ${w.now - last} ${fx.filter(e=>e.type==='event'&&/member/.test(e.event.type)).map(e=>JSON.stringify(e.event)).join(' ')}`); last = w.now; } } });
console.log(log.filter(l => { const t = parseInt(l); return t > Number(process.argv[4]) && t < Number(process.argv[5]); }).join('\n'));
