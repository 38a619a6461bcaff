// Frames on an established plain ws:// link cannot be injected, replayed or reordered: a test
// controls a TCP proxy on the path from b to a, and whatever it does to the frames, a closes the
// link (bad_mac) and applies nothing of what it refused.
import { describe, it, expect, afterEach } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { ProcessMember } from '../src/drivers/process-member.js';
import { MSG, TAG_BYTES, encodeFrame } from '../src/protocol.js';
import { WsProxy, type WsMessage } from '../src/security/ws-proxy.js';
import { member, formed, rejections, waitUntil } from './security-support.js';

interface Path { a: ProcessMember; b: ProcessMember; proxy: WsProxy }
const running: Path[] = [];

/** a, and b joining through a proxy in front of a: b's only link to a runs through the test. */
async function throughProxy(): Promise<Path> {
  const a = await member({ name: 'a' });
  const port = Number(new URL(a.address).port);
  const proxy = await WsProxy.start({ host: '127.0.0.1', port });
  const b = await member({ name: 'b', seeds: [proxy.url] });
  const p = { a, b, proxy };
  running.push(p);
  await formed([a, b]);
  expect(proxy.seen.some((m) => m.dir === 'up')).toBe(true);
  return p;
}

afterEach(async () => {
  for (const p of running.splice(0)) { await Promise.all([p.a.kill(), p.b.kill()]); await p.proxy.stop(); }
});

const frameType = (m: WsMessage) => m.payload[2];
const tagged = (frame: Uint8Array) => Buffer.concat([frame, randomBytes(TAG_BYTES)]);
const contains = (m: WsMessage, s: string) => Buffer.from(m.payload).includes(Buffer.from(s));

describe('security: frame integrity on a plain ws:// link', () => {
  it('injection: a forged BYE and LEAVING from "b" close the link (bad_mac); a neither drops b nor moves its children', async () => {
    const { a, b, proxy } = await throughProxy();
    for (let i = 0; i < 8; i++) await a.startChild({ id: `inj-${i}`, kind: 'worker' }, { wait: 'running' });
    const onB = (await b.whichChildren('local')).map((c) => c.id);
    expect(onB.length).toBeGreaterThan(0);
    const from = a.events.length;
    proxy.inject('up', tagged(encodeFrame({ type: MSG.LEAVING, fields: [] })));
    proxy.inject('up', tagged(encodeFrame({ type: MSG.BYE, fields: [] })));
    await a.waitEvent((e) => e.type === 'link_rejected' && e.reason === 'bad_mac', 5000, 'bad_mac on a');
    // The proxy passes a's close frame on; the socket ends with the close handshake or a's
    // terminate 2 s later: a deadline for a loaded machine, not a latency.
    await waitUntil(() => proxy.closedCount > 0, 15_000, 'the proxied link closed');
    // b reconnects (directly, to a's own address); nothing of the forged frames was applied
    await formed([a, b]);
    const after = a.events.slice(from);
    expect(after.filter((e) => e.event.type === 'member_down' && e.event.name === 'b' && e.event.reason === 'left')).toEqual([]);
    expect(after.filter((e) => e.event.type === 'child_moved' || e.event.type === 'child_stopping')).toEqual([]);
    expect((await a.members()).find((m) => m.name === 'b')?.status).toBe('up');
    expect((await b.whichChildren('local')).map((c) => c.id).sort()).toEqual(onB.sort());
    expect((await a.rejectedFrames()).bad_mac).toBeGreaterThan(0);
  });

  it('replay: b\'s DELTA that started a child, sent again after the child was terminated, is refused and the child stays terminated', async () => {
    const { a, b, proxy } = await throughProxy();
    await b.startChild({ id: 'replayed', kind: 'worker' }, { wait: 'running' });
    const start = proxy.seen.find((m) => m.dir === 'up' && frameType(m) === MSG.DELTA && contains(m, 'replayed'));
    expect(start).toBeDefined();
    await b.terminateChild('replayed', { wait: 'stopped' });
    const from = a.events.length;
    proxy.resend(start!);
    await a.waitEvent((e) => e.type === 'link_rejected' && e.reason === 'bad_mac', 5000, 'bad_mac on a');
    await formed([a, b]);
    for (const m of [a, b]) expect((await m.whichChildren('global')).map((c) => c.id)).not.toContain('replayed');
    expect(a.events.slice(from).filter((e) => e.event.type === 'child_started')).toEqual([]);
    expect(rejections(a, 'bad_mac')).toBe(1);
  });

  it('reorder: two of b\'s frames swapped on the way close the link (bad_mac) at the first one out of order', async () => {
    const { a, proxy } = await throughProxy();
    let held: WsMessage | undefined;
    let released = false;
    proxy.onMessage = (m) => {
      if (m.dir !== 'up' || released) return 'forward';
      if (!held) { held = m; return 'hold'; }
      released = true;
      setImmediate(() => proxy.resend(held!));
      return 'forward';
    };
    await a.waitEvent((e) => e.type === 'link_rejected' && e.reason === 'bad_mac', 5000, 'bad_mac on a');
    expect(released).toBe(true);
  });

  it('truncation: a frame cut short by one byte closes the link', async () => {
    const { a, proxy } = await throughProxy();
    let cut = false;
    proxy.onMessage = (m) => {
      if (m.dir !== 'up' || cut) return 'forward';
      cut = true;
      proxy.inject('up', m.payload.subarray(0, m.payload.length - 1));
      return 'hold';
    };
    await a.waitEvent((e) => e.type === 'link_rejected' && ['bad_mac', 'truncated'].includes(e.reason as string), 5000, 'truncated frame refused');
  });
});
