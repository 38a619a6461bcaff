// The global view a node keeps (rows refreshed from the changes of each step, and the binding's
// rows patched from the changes since its last read) equals the view computed from scratch from
// the same node's replica, after every action of random workloads: starts and terminates of
// children of several kinds (one that nobody advertises), crashing children that exhaust their
// restarts, node crashes and restarts, joins, leaves and partitions.
import { describe, it, expect } from 'vitest';
import { cluster } from './support.js';
import { Prng } from '../src/sim/prng.js';
import { globalViewText } from '../src/sim/checker.js';
import type { World } from '../src/sim/world.js';

const SEEDS = 12;
const ACTIONS = 60;
const ID_SPACE = 40;
const KINDS = ['worker', 'worker', 'worker', 'gpu', 'nobody'];

function checkAll(w: World, where: string): void {
  for (const n of w.aliveNodes()) {
    const kept = n.core.globalChildren();
    // Rows are frozen, and each read returns a new array (a caller may sort it).
    expect(kept.every((r) => Object.isFrozen(r))).toBe(true);
    expect(globalViewText(kept), `${n.name} ${where}`).toBe(globalViewText(n.core.globalChildrenScratch()));
  }
}

describe('global view', () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`equals the view from scratch on every node after every action (seed ${seed})`, () => {
      const rng = new Prng(seed);
      const w = cluster(3, { kinds: ['worker'] }, seed);
      w.runner.exitAfter = (id) => (id.endsWith('7') ? { after: rng.int(1, 50), reason: 'crash' } : null);
      let extra = 0;
      const names = () => w.aliveNodes().map((n) => n.name);
      for (let a = 0; a < ACTIONS; a++) {
        const live = names();
        const at = rng.pick(live);
        const f = rng.int(0, 19);
        if (f < 9) {
          const burst = rng.int(1, 20);
          for (let i = 0; i < burst; i++) {
            const id = `c${rng.int(0, ID_SPACE - 1)}`;
            w.startChild(at, { id, kind: rng.pick(KINDS), args: { a, i }, maxRestarts: 2, periodMs: 1000 });
          }
        } else if (f < 14) {
          for (let i = rng.int(1, 8); i > 0; i--) w.terminateChild(at, `c${rng.int(0, ID_SPACE - 1)}`);
        } else if (f === 14 && live.length > 2) {
          w.crash(at);
          w.runFor(rng.int(0, 1500));
          w.restart(at);
        } else if (f === 15 && live.length < 5) {
          w.addNode(`x${extra++}`, { kinds: rng.chance(0.5) ? ['worker', 'gpu'] : ['gpu'], seeds: [`sim://${rng.pick(live)}`] });
        } else if (f === 16 && live.length > 2) {
          w.leave(at);
        } else if (f === 17 && live.length > 2) {
          w.partition([at], live.filter((x) => x !== at));
          w.runFor(rng.int(100, 2000));
          w.heal();
        }
        w.runFor(rng.int(0, 400));
        checkAll(w, `after action ${a}`);
      }
      w.runFor(5000);
      checkAll(w, 'at the end');
    });
  }
});
