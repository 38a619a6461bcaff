// The dashboard feed keeps its pushes to a share of the member's time: when reading the view is
// costly (a burst over many children), the next push waits in proportion (at most
// DASHBOARD_PUSH_DELAY_MAX_MS), and a cheap push keeps the DASHBOARD_PUSH_MS pace.
import { describe, expect, it } from 'vitest';
import { DashboardFeed, DASHBOARD_CPU_SHARE_MAX, DASHBOARD_PUSH_DELAY_MAX_MS, DASHBOARD_PUSH_MS } from '../src/dashboard-feed.js';
import type { Supervisor } from '../src/supervisor.js';

/** A Supervisor whose state changes on every read and whose global view costs `costMs` to read. */
function changingSupervisor(costMs: number): Supervisor {
  let n = 0;
  const fake = {
    name: 'a', running: true,
    members: () => [],
    digest: () => String(++n),
    whichChildren: () => {
      const end = performance.now() + costMs;
      while (performance.now() < end) { /* the cost of decoding a burst of changed rows */ }
      return [{ id: `c${n}`, kind: 'k', node: 'a', status: 'running', restarts: 0 }];
    },
    on: () => fake, off: () => fake,
  };
  return fake as unknown as Supervisor;
}

/** The times of the delta messages a page gets over `forMs`. */
async function deltaTimes(costMs: number, forMs: number): Promise<number[]> {
  const feed = new DashboardFeed(changingSupervisor(costMs));
  const at: number[] = [];
  const disconnect = feed.connect((m) => { if (JSON.parse(m).t === 'delta') at.push(performance.now()); });
  await new Promise((r) => setTimeout(r, forMs));
  disconnect();
  return at;
}

const gaps = (xs: number[]) => xs.slice(1).map((x, i) => x - xs[i]);

describe('DashboardFeed', () => {
  it('puts the next push off in proportion to a costly one, and keeps the push pace when pushes are cheap', async () => {
    const COST_MS = 10;
    const costly = gaps(await deltaTimes(COST_MS, 3000));
    expect(costly.length).toBeGreaterThanOrEqual(1);
    // Each gap holds the wait after a push (at least its cost / the share) and the next push's read.
    for (const g of costly) expect(g).toBeGreaterThanOrEqual(COST_MS / DASHBOARD_CPU_SHARE_MAX);
    // A push costlier than the largest put-off allows still lets the page hear at that pace.
    const COSTLIER_MS = 2 * DASHBOARD_PUSH_DELAY_MAX_MS * DASHBOARD_CPU_SHARE_MAX;
    const capped = gaps(await deltaTimes(COSTLIER_MS, 3500));
    expect(capped.length).toBeGreaterThanOrEqual(2);
    for (const g of capped) expect(g).toBeGreaterThanOrEqual(DASHBOARD_PUSH_DELAY_MAX_MS - 5);
    expect(Math.min(...capped)).toBeLessThan(COSTLIER_MS / DASHBOARD_CPU_SHARE_MAX);
    const cheap = gaps(await deltaTimes(0, 1500));
    expect(cheap.length).toBeGreaterThanOrEqual(2);
    for (const g of cheap) expect(g).toBeGreaterThanOrEqual(DASHBOARD_PUSH_MS - 5);
    expect(Math.min(...cheap)).toBeLessThan(COST_MS / DASHBOARD_CPU_SHARE_MAX);
  }, 20_000);
});
