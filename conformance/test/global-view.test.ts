// The global view a node keeps (rows refreshed from the changes of each step, and the binding's
// rows patched from the changes since its last read) equals the view computed from scratch from
// the same node's replica, after every action of random workloads: starts and terminates of
// children of several kinds (one that nobody advertises), crashing children that exhaust their
// restarts, node crashes and restarts, joins, leaves and partitions; with the binding's rows
// updated between reads at random (as the supervisor's keeper does), and through the id arena's
// compaction and growth.
import { describe, it, expect } from 'vitest';
import { GlobalViewKeeper, GLOBAL_VIEW_KEEP_MS } from '@trellis/core/testing';
import { cluster } from './support.js';
import { Prng } from '../src/sim/prng.js';
import { globalViewText } from '../src/sim/checker.js';
import type { World } from '../src/sim/world.js';

const SEEDS = 12;
const ACTIONS = 60;
const ID_SPACE = 40;
const KINDS = ['worker', 'worker', 'worker', 'gpu', 'nobody'];

function checkAll(w: World, where: string, rng?: Prng): void {
  for (const n of w.aliveNodes()) {
    // Updated ahead of some reads, as the supervisor's keeper does between steps.
    if (rng?.chance(0.5)) n.core.updateGlobalView();
    const kept = n.core.globalChildren();
    expect(n.core.globalViewPending(), `${n.name} ${where}: nothing left to decode after a read`).toBe(false);
    // Rows are frozen, and each read returns a new array (a caller may sort it).
    expect(kept.every((r) => Object.isFrozen(r))).toBe(true);
    expect(globalViewText(kept), `${n.name} ${where}`).toBe(globalViewText(n.core.globalChildrenScratch()));
  }
}

describe('global view', () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`equals the view from scratch on every node after every action (seed ${seed})`, () => {
      const rng = new Prng(seed);
      const reads = new Prng(seed + 1000);
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
        checkAll(w, `after action ${a}`, reads);
      }
      w.runFor(5000);
      checkAll(w, 'at the end');
    });
  }

  it('equals the view from scratch while most ids are replaced by longer ones (the id arena is compacted and grown)', () => {
    const w = cluster(3, { kinds: ['worker'] }, 5);
    const names = ['a', 'b', 'c'];
    const id = (round: number, i: number) => `child-${'x'.repeat(8 + round * 12)}-${round}-${i}`;
    const live: string[] = [];
    for (let round = 0; round < 4; round++) {
      // Terminate five in six of the live ids, then start as many new ones with longer ids.
      const keep = live.filter((_, i) => i % 6 === 0);
      for (const x of live) if (!keep.includes(x)) w.terminateChild(names[x.length % 3], x);
      w.runFor(2000);
      checkAll(w, `round ${round}, after the terminates`);
      const fresh = Array.from({ length: 600 }, (_, i) => id(round, i));
      for (const [i, x] of fresh.entries()) w.startChild(names[i % 3], { id: x, kind: 'worker', args: {} });
      live.length = 0;
      live.push(...keep, ...fresh);
      w.runFor(3000);
      checkAll(w, `round ${round}, after the starts`);
      expect(w.node('a').core.globalChildren().length).toBe(live.length);
    }
  });

  it('the keeper decodes changed rows between reads: after it ran nothing is left, and the next read returns the rows it decoded', async () => {
    const w = cluster(3, { kinds: ['worker'] }, 3);
    const core = w.node('a').core;
    const keeper = new GlobalViewKeeper(core);
    core.globalChildren();
    keeper.afterStep();
    expect(core.globalViewPending()).toBe(false);
    for (let i = 0; i < 200; i++) w.startChild('a', { id: `k${i}`, kind: 'worker', args: {} });
    w.runFor(2000);
    expect(core.globalViewPending()).toBe(true);
    keeper.afterStep();
    const deadline = Date.now() + 20 * GLOBAL_VIEW_KEEP_MS;
    while (core.globalViewPending() && Date.now() < deadline) await new Promise((r) => setTimeout(r, GLOBAL_VIEW_KEEP_MS / 4));
    expect(core.globalViewPending()).toBe(false);
    const rows = core.globalChildren();
    expect(rows.filter((r) => r.status === 'running').length).toBe(200);
    expect(globalViewText(rows)).toBe(globalViewText(core.globalChildrenScratch()));
    keeper.stop();
  });
});
