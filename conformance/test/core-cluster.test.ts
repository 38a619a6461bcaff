// The core's cluster logic, in-process: real Wasm cores over the simulator's virtual network
// with no faults injected. Pogo's own scenarios first, then the rest of the core's contract.
import { PROTOCOL_VERSION } from '../src/protocol.js';
import { describe, it, expect } from 'vitest';
import { World } from '../src/sim/world.js';
import { cluster, converged, settled, watchOverlap, runnerOf, wasmModule } from './support.js';

const spec = (id: string, extra: Record<string, unknown> = {}) => ({ id, kind: 'worker', args: { id }, ...extra });
const ids = (n: number, p = 'child') => Array.from({ length: n }, (_, i) => `${p}-${i}`);

describe("Pogo's scenarios", () => {
  it('a child started from two nodes runs once', () => {
    const w = cluster(3);
    const r1 = w.startChild('a', spec('x'));
    const r2 = w.startChild('b', spec('x'));
    expect(w.runUntil(() => settled(w, ['x']), 3000)).toBe(true);
    w.runFor(500);
    expect(w.runningIds().get('x')).toHaveLength(1);
    expect(w.reply('a', r1)?.code).toBe('ok');
    expect(w.reply('b', r2)?.code).toBe('ok');
  });

  it('concurrent starts of one id with different specs resolve to the same spec everywhere', () => {
    const w = cluster(3);
    w.startChild('a', { id: 'x', kind: 'worker', args: 1 });
    w.startChild('c', { id: 'x', kind: 'worker', args: 2 });
    expect(w.runUntil(() => settled(w, ['x']), 3000)).toBe(true);
    w.runFor(1000);
    expect(converged(w)).toBe(true);
    const holder = w.node(runnerOf(w, 'x')!);
    const args = holder.running.get('x')!.args;
    expect(['1', '2']).toContain(args);
    expect(w.runningIds().get('x')).toHaveLength(1);
  });

  it('terminates a child from a node that does not run it', () => {
    const w = cluster(3);
    w.startChild('a', spec('x'));
    expect(w.runUntil(() => settled(w, ['x']), 3000)).toBe(true);
    const other = ['a', 'b', 'c'].find((n) => n !== runnerOf(w, 'x'))!;
    const req = w.terminateChild(other, 'x', 'done');
    expect(w.runUntil(() => w.reply(other, req) !== undefined, 3000)).toBe(true);
    expect(w.reply(other, req)?.code).toBe('ok');
    expect(w.runningIds().has('x')).toBe(false);
    w.runFor(1000);
    expect(w.runningIds().has('x')).toBe(false);
    for (const n of w.aliveNodes()) expect(n.core.globalChildren().map((c) => c.id)).not.toContain('x');
  });

  it('restarts a crashed child and the global view shows the new instance', () => {
    const w = cluster(3);
    let crashes = 1;
    w.runner.exitAfter = (id) => (id === 'x' && crashes-- > 0 ? { after: 50, reason: 'crash' } : null);
    w.startChild('a', spec('x'));
    expect(w.runUntil(() => w.aliveNodes().every((n) => n.core.globalChildren().some((c) => c.id === 'x' && c.restarts === 1 && c.status === 'running')), 3000)).toBe(true);
    const holder = w.node(runnerOf(w, 'x')!);
    expect(holder.running.get('x')!.epoch).toBeGreaterThan(1);
    expect(holder.events.some((e) => e.type === 'child_exited' && e.id === 'x' && e.reason === 'crash')).toBe(true);
  });

  it('moves children to a joining node and back when it leaves, with no overlap', () => {
    const w = cluster(2);
    const all = ids(40);
    for (const id of all) w.startChild('a', spec(id));
    expect(w.runUntil(() => settled(w, all), 3000)).toBe(true);
    const overlap = watchOverlap(w);
    w.addNode('c', { seeds: ['sim://b'] });
    expect(w.runUntil(() => settled(w, all) && w.node('c').running.size > 0 && w.aliveNodes().every((n) => n.core.members().length === 3), 5000)).toBe(true);
    const onC = [...w.node('c').running.keys()];
    expect(onC.length).toBeGreaterThan(3); // about a third of 40
    expect(onC.length).toBeLessThan(30);
    const req = w.leave('c');
    expect(w.runUntil(() => w.reply('c', req) !== undefined, 5000)).toBe(true);
    expect(w.runUntil(() => settled(w, all) && w.node('c').running.size === 0, 5000)).toBe(true);
    for (const id of onC) expect(['a', 'b']).toContain(runnerOf(w, id));
    expect(overlap.overlaps).toEqual([]);
  });

  it('moves a child when its node is lost', () => {
    const w = cluster(3);
    w.startChild('a', spec('x'));
    expect(w.runUntil(() => settled(w, ['x']), 3000)).toBe(true);
    const victim = runnerOf(w, 'x')!;
    w.crash(victim);
    const t0 = w.now;
    expect(w.runUntil(() => { const r = runnerOf(w, 'x'); return r !== undefined && r !== victim && w.node(r).running.get('x')!.started; }, 3000)).toBe(true);
    expect(w.now - t0).toBeLessThan(500 + 200); // failure timeout + margin
  });

  it('runs children given at start once, though every node asks for them', () => {
    const w = new World(wasmModule, 7);
    const boot = ids(10, 'boot');
    for (const [i, n] of ['a', 'b', 'c'].entries()) {
      w.addNode(n, { seeds: i === 0 ? [] : ['sim://a'] });
      for (const id of boot) w.startChild(n, spec(id));
    }
    expect(w.runUntil(() => settled(w, boot), 5000)).toBe(true);
    w.runFor(1000);
    for (const [, ns] of w.runningIds()) expect(ns).toHaveLength(1);
  });
});

describe('acknowledgement and waits', () => {
  it('acks a start once a second member holds it, and at once when alone', () => {
    const solo = new World(wasmModule, 3);
    solo.addNode('a');
    const r = solo.startChild('a', spec('x'));
    expect(solo.reply('a', r)?.code).toBe('ok');

    const w = cluster(2);
    const r2 = w.startChild('a', spec('y'));
    expect(w.reply('a', r2)).toBeUndefined(); // not yet held by b
    expect(w.runUntil(() => w.reply('a', r2) !== undefined, 1000)).toBe(true);
    expect(w.node('b').core.info().desired).toBe(1);
  });

  it("wait: 'running' replies once the owner runs it; 'stopped' once nobody does", () => {
    const w = cluster(3);
    const r = w.startChild('b', spec('x'), 'done');
    expect(w.runUntil(() => w.reply('b', r) !== undefined, 2000)).toBe(true);
    expect(w.reply('b', r)?.code).toBe('ok');
    expect(w.node(runnerOf(w, 'x')!).running.get('x')!.started).toBe(true);
    const t = w.terminateChild('c', 'x', 'done');
    expect(w.runUntil(() => w.reply('c', t) !== undefined, 2000)).toBe(true);
    expect(w.runningIds().has('x')).toBe(false);
  });

  it('terminate of an unknown id is a not_found error', () => {
    const w = cluster(2);
    const t = w.terminateChild('a', 'nope');
    expect(w.reply('a', t)).toMatchObject({ code: 'not_found', field: 'id' });
  });

  it('a different spec for an existing id is already_started', () => {
    const w = cluster(2);
    w.startChild('a', spec('x'));
    w.runFor(200);
    const r = w.startChild('b', { id: 'x', kind: 'worker', args: 'other' });
    expect(w.reply('b', r)).toMatchObject({ code: 'already_started', field: 'id' });
  });
});

describe('supervision', () => {
  function policy(restart: string, reason: 'normal' | 'crash') {
    const w = cluster(2);
    let exits = 1;
    w.runner.exitAfter = (id) => (id === 'x' && exits-- > 0 ? { after: 20, reason } : null);
    w.startChild('a', spec('x', { restart }));
    w.runFor(1500);
    return w;
  }
  it('permanent: restarted after a normal exit', () => {
    const w = policy('permanent', 'normal');
    expect(w.runningIds().get('x')).toHaveLength(1);
  });
  it('transient: restarted after a crash, gone after a normal exit', () => {
    expect(policy('transient', 'crash').runningIds().get('x')).toHaveLength(1);
    const w = policy('transient', 'normal');
    expect(w.runningIds().has('x')).toBe(false);
    for (const n of w.aliveNodes()) expect(n.core.globalChildren()).toEqual([]);
  });
  it('temporary: never restarted', () => {
    const w = policy('temporary', 'crash');
    expect(w.runningIds().has('x')).toBe(false);
    for (const n of w.aliveNodes()) expect(n.core.globalChildren()).toEqual([]);
  });

  it('fails after the restart intensity is exceeded, visibly everywhere, until started again', () => {
    const w = cluster(3);
    let crash = true;
    w.runner.exitAfter = (id) => (id === 'x' && crash ? { after: 5, reason: 'crash' } : null);
    w.startChild('a', spec('x', { maxRestarts: 2, periodMs: 10000 }));
    expect(w.runUntil(() => w.aliveNodes().every((n) => n.core.globalChildren().find((c) => c.id === 'x')?.status === 'failed'), 5000)).toBe(true);
    w.runFor(1000);
    expect(w.runningIds().has('x')).toBe(false);
    const holder = w.aliveNodes().find((n) => n.events.some((e) => e.type === 'child_failed'));
    expect(holder).toBeDefined();
    // restarts were 0, 100, 200 ms apart: backoff grows
    const delays = holder!.events.filter((e) => e.type === 'child_restarting').map((e) => (e as { delayMs: number }).delayMs);
    expect(delays).toEqual([0, 100]);
    crash = false;
    const r = w.startChild('b', spec('x', { maxRestarts: 2, periodMs: 10000 }));
    expect(w.runUntil(() => settled(w, ['x']) && w.reply('b', r) !== undefined, 3000)).toBe(true);
  });

  it("one child's failures never affect another", () => {
    const w = cluster(2);
    w.runner.exitAfter = (id) => (id === 'bad' ? { after: 1, reason: 'crash' } : null);
    w.runner.failStart = (id) => id === 'bad2';
    w.startChild('a', spec('good'));
    w.startChild('a', spec('bad', { maxRestarts: 1 }));
    w.startChild('a', spec('bad2', { maxRestarts: 1 }));
    w.runFor(3000);
    expect(w.runningIds().get('good')).toHaveLength(1);
    const g = w.node('a').core.globalChildren();
    expect(g.find((c) => c.id === 'good')?.status).toBe('running');
    expect(g.find((c) => c.id === 'bad')?.status).toBe('failed');
    expect(g.find((c) => c.id === 'bad2')?.status).toBe('failed');
  });
});

describe('partitions', () => {
  it('quorum mode stops the minority side and starts none there; the majority takes over only after the lease', () => {
    const w = cluster(3, { quorum: 2 });
    const all = ids(30);
    const shutdownMs = 200;
    for (const id of all) w.startChild('a', spec(id, { shutdownMs }));
    expect(w.runUntil(() => settled(w, all), 3000)).toBe(true);
    const onC = [...w.node('c').running.keys()];
    expect(onC.length).toBeGreaterThan(0);
    const cutAt = w.now;
    w.partition(['c'], ['a', 'b']);
    // c stops its children within the failure timeout plus their shutdown; a and b wait out
    // c's lease (lease.ts takeoverWaitMs: at least the failure timeout plus the shutdown and
    // the kill grace) before they start any of them.
    let stoppedAt = -1, takenAt = -1;
    expect(w.runUntil(() => {
      if (stoppedAt < 0 && w.node('c').running.size === 0) stoppedAt = w.now;
      if (takenAt < 0 && onC.some((id) => (w.runningIds().get(id) ?? []).some((x) => x !== 'c'))) takenAt = w.now;
      return stoppedAt >= 0 && all.every((id) => { const r = w.runningIds().get(id); return r?.length === 1 && r[0] !== 'c'; });
    }, 6000)).toBe(true);
    expect(stoppedAt).toBeLessThan(takenAt);
    expect(takenAt - cutAt).toBeGreaterThan(500 + shutdownMs + 500);
    w.runFor(2000);
    expect(w.node('c').running.size).toBe(0);
    w.heal();
    expect(w.runUntil(() => settled(w, all) && w.node('c').running.size > 0, 10000)).toBe(true);
  });

  it("'available' mode runs both sides during a split and removes duplicates after the heal", () => {
    const w = cluster(3);
    const all = ids(30);
    for (const id of all) w.startChild('a', spec(id));
    expect(w.runUntil(() => settled(w, all), 3000)).toBe(true);
    w.partition(['c'], ['a', 'b']);
    // each side runs everything it owns: c alone owns all
    expect(w.runUntil(() => w.node('c').running.size === 30, 3000)).toBe(true);
    w.heal();
    expect(w.runUntil(() => settled(w, all), 10000)).toBe(true);
  });
});

describe('handshake', () => {
  const secret = new TextEncoder().encode('s3cret');
  it('refuses a peer with the wrong secret, and the cluster is undisturbed', () => {
    const w = cluster(2, { secret });
    w.addNode('z', { seeds: ['sim://a'], secret: new TextEncoder().encode('wrong') });
    w.runFor(1000);
    expect(w.node('a').core.members().map((m) => m.name).sort()).toEqual(['a', 'b']);
    expect(w.node('a').core.counters().bad_auth).toBeGreaterThan(0);
    expect(w.node('a').events.some((e) => e.type === 'link_rejected' && e.reason === 'bad_auth')).toBe(true);
  });
  it('refuses a peer without a secret when we have one, and a wrong scope', () => {
    const w = cluster(2, { secret });
    w.addNode('y', { seeds: ['sim://a'] });
    w.addNode('z', { seeds: ['sim://a'], secret, scope: 'other' });
    w.runFor(1000);
    expect(w.node('a').core.members()).toHaveLength(2);
    const c = w.node('a').core.counters();
    expect(c.secret_mismatch).toBeGreaterThan(0);
    expect(c.wrong_scope).toBeGreaterThan(0);
  });
  it('allows a cluster without secrets when every member has none', () => {
    const w = cluster(3);
    expect(w.node('c').core.members()).toHaveLength(3);
  });
  it('closes a link that sends anything but the handshake first, and counts it', () => {
    const w = cluster(1);
    const raw = w.rawLink('a');
    w.runFor(10);
    expect(raw.received.length).toBe(1); // a's HELLO
    // A well-formed HEARTBEAT frame before authenticating.
    w.rawSend(raw, new Uint8Array([0x54, PROTOCOL_VERSION, 3, 0, 0, 0, 0, 0]));
    w.runFor(10);
    expect(raw.closed).toBe(true);
    expect(w.node('a').core.counters().unauthenticated).toBe(1);
  });
  it('rejects garbage and oversized input on a link without trapping', () => {
    const w = cluster(2);
    const cases: Uint8Array[] = [new Uint8Array([1, 2, 3]), new Uint8Array(100).fill(0x54), new Uint8Array([0x54, 9, 1, 0, 0, 0, 0, 0])];
    const big = new Uint8Array(8 + (1 << 20) + 1); big.set([0x54, PROTOCOL_VERSION, 1, 0]); new DataView(big.buffer).setUint32(4, (1 << 20) + 1, true);
    cases.push(big);
    for (const bytes of cases) { const raw = w.rawLink('a'); w.runFor(5); w.rawSend(raw, bytes); w.runFor(5); expect(raw.closed).toBe(true); }
    const c = w.node('a').core.counters();
    expect(c.truncated + c.bad_magic + c.bad_version + c.oversized + c.malformed).toBe(4);
    expect(c.oversized).toBe(1);
    expect(w.node('a').core.members()).toHaveLength(2);
  });
});

describe('validation', () => {
  const bad: [unknown, string][] = [
    [{ kind: 'worker' }, 'id'],
    [{ id: '', kind: 'worker' }, 'id'],
    [{ id: 'x'.repeat(257), kind: 'worker' }, 'id'],
    [{ id: 42, kind: 'worker' }, 'id'],
    [{ id: 'x' }, 'kind'],
    [{ id: 'x', kind: 'worker', args: 'y'.repeat(70000) }, 'args'],
    [{ id: 'x', kind: 'worker', args: 10n }, 'args'],
    [{ id: 'x', kind: 'worker', args: () => 1 }, 'args'],
    [{ id: 'x', kind: 'worker', restart: 'sometimes' }, 'restart'],
    [{ id: 'x', kind: 'worker', shutdownMs: -1 }, 'shutdownMs'],
    [{ id: 'x', kind: 'worker', maxRestarts: 1.5 }, 'maxRestarts'],
    [{ id: 'x', kind: 'worker', periodMs: 0 }, 'periodMs'],
    [{ id: 'x', kind: 'worker', periodMs: '5' }, 'periodMs'],
    [null, 'id'],
  ];
  it.each(bad.map(([s, f], i) => ({ s, field: f, i })))('rejects invalid spec #$i naming $field', ({ s, field }) => {
    const w = cluster(1);
    const r = w.startChild('a', s);
    const rep = w.reply('a', r)!;
    expect(rep.code).toBe('invalid_spec');
    expect(rep.field).toBe(field);
    expect(rep.message.startsWith(field === 'id' && s === null ? 'id' : field)).toBe(true);
    expect(w.node('a').core.info().desired).toBe(0);
  });
  it('accepts a spec whose kind nobody advertises, and shows it pending with the reason', () => {
    const w = cluster(2);
    const r = w.startChild('a', { id: 'x', kind: 'gpu' });
    expect(w.runUntil(() => w.reply('a', r) !== undefined, 1000)).toBe(true);
    const g = w.node('b').core.globalChildren().find((c) => c.id === 'x');
    expect(g).toMatchObject({ status: 'pending', node: null });
    expect(g!.reason).toContain('gpu');
    w.addNode('g', { seeds: ['sim://a'], kinds: ['gpu'] });
    expect(w.runUntil(() => runnerOf(w, 'x') === 'g', 3000)).toBe(true);
  });
});

describe('state', () => {
  it('holds identical digests on every member after convergence', () => {
    const w = cluster(4);
    for (const id of ids(50)) w.startChild(['a', 'b', 'c', 'd'][id.length % 4], spec(id));
    w.terminateChild('a', 'child-3');
    expect(w.runUntil(() => converged(w) && settled(w, ids(50).filter((x) => x !== 'child-3')), 5000)).toBe(true);
    const d = w.node('a').core.digest();
    for (const n of w.aliveNodes()) expect(n.core.digest()).toEqual(d);
  });
  it('a restarted node is a new incarnation, never confused with the old one', () => {
    const w = cluster(3);
    const inc = w.node('c').inc;
    w.crash('c');
    w.runFor(100);
    const c2 = w.restart('c');
    expect(c2.inc).toBeGreaterThan(inc);
    expect(w.runUntil(() => w.node('a').core.members().some((m) => m.name === 'c' && m.incarnation === c2.inc && m.status === 'up'), 3000)).toBe(true);
    expect(w.node('a').events.some((e) => e.type === 'member_down' && e.name === 'c')).toBe(true);
  });
});
