// Handshake latency on loopback (npm run bench -- handshake [--runs N]): member a listens on
// 127.0.0.1; a new member b (secret, protocol v2) starts with a as its seed, and we measure from
// b's dial (its start() returning: init has queued the dial) to b's member_up for a, and to a's
// member_up for b. Each run is a fresh b (a fresh incarnation and link).
import { start } from '@trellis/node';
import { numArg, emitter } from './args.mjs';

const RUNS = numArg('--runs', 30);
const emit = emitter('handshake', { digits: 3 });
const secret = 'handshake bench secret';
const kinds = { worker: { run: async (_a, ctx) => { await new Promise((r) => ctx.signal.addEventListener('abort', r)); } } };

const a = await start({ scope: 'bench', name: 'a', secret, listen: { host: '127.0.0.1', port: 0 }, kinds });
const upOn = (sup, name) => new Promise((resolve) => {
  const on = (e) => { if (e.type === 'member_up' && e.name === name) { sup.off?.('event', on); resolve(performance.now()); } };
  sup.on('event', on);
});
const toB = [], toA = [];
for (let i = 0; i < RUNS; i++) {
  const name = `b${i}`;
  const aSees = upOn(a, name);
  const b = await start({ scope: 'bench', name, secret, seeds: [a.address], listen: { host: '127.0.0.1', port: 0 }, kinds });
  const dialed = performance.now();
  const bSees = await upOn(b, 'a');
  toB.push(bSees - dialed);
  toA.push((await aSees) - dialed);
  await b.stop();
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
emit('handshake_ms', median(toB), 'ms', { runs: RUNS, what: 'dial to member_up on the dialer, loopback, median', p_max: Math.max(...toB) });
emit('handshake_listener_ms', median(toA), 'ms', { runs: RUNS, what: 'dial to member_up on the listener, median' });
await a.stop();
process.exit(0);
