// The relay attack of protocol version 1, over real WebSockets: an attacker without the secret
// opens a link to member a and one to member b, poses to b as a and to a as b, and tries to pass
// one member's proof off as its own. Version 2 refuses it: a listener proves nothing to a dialer
// that has not proved itself, so there is nothing to relay; the attacker is refused with a reason
// and a counter, and no state changes anywhere.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { ProcessMember } from '../src/drivers/process-member.js';
import { MSG, decodeFrame, encodeFrame, readHello } from '../src/protocol.js';
import { clusterKey } from '../src/protocol-session.js';
import { RawLink, hello, dialerHandshake, AUTH_MODE } from '../src/security/raw-link.js';
import { SCOPE, SECRET, member, formed, snapshot, rejections, waitUntil } from './security-support.js';

describe('security: the relay attack over real WebSockets', () => {
  let a: ProcessMember, b: ProcessMember;
  beforeAll(async () => {
    a = await member({ name: 'a' });
    b = await member({ name: 'b', seeds: [a.address] });
    await formed([a, b]);
    for (let i = 0; i < 6; i++) await a.startChild({ id: `relay-${i}`, kind: 'worker' }, { wait: 'running' });
  });
  afterAll(async () => { await Promise.all([a?.kill(), b?.kill()]); });

  it('posing as a to b and as b to a: b proves nothing, a refuses with bad_auth, nothing changes', async () => {
    const before = await snapshot([a, b]);
    const eventsA = a.events.length, eventsB = b.events.length;
    const badAuthBefore = (await a.rejectedFrames()).bad_auth ?? 0;
    const toA = await RawLink.connect(a.address);
    const toB = await RawLink.connect(b.address);
    const helloA = (await toA.next(2000))!, helloB = (await toB.next(2000))!;
    expect(readHello(decodeFrame(helloA)).name).toBe('a');
    expect(readHello(decodeFrame(helloB)).name).toBe('b');
    // To b, the attacker is a (a's HELLO verbatim: a's name, incarnation and nonce).
    toB.send(helloA);
    // A listener waits for the dialer's proof: b sends nothing derived from the secret.
    expect(await toB.next(300)).toBeNull();
    // To a, the attacker is b; it has no proof of b's to relay, so it sends what it can.
    toA.send(helloB);
    toA.send(encodeFrame({ type: MSG.AUTH, fields: [randomBytes(32)] }));
    expect(await toA.next(2000)).toBeNull(); // a sent no AUTH, and closed
    expect((await toA.closed).reason).toBe('bad_auth');
    expect((await toB.closed).reason).toBe('handshake_timeout');
    await waitUntil(async () => ((await a.rejectedFrames()).bad_auth ?? 0) > badAuthBefore, 5000, 'bad_auth counted on a');
    expect(a.events.slice(eventsA).filter((e) => e.event.type === 'link_rejected').map((e) => e.event.reason)).toContain('bad_auth');
    expect(((await b.rejectedFrames()).handshake_timeout ?? 0)).toBeGreaterThan(0);
    // No member came or went, nothing moved: the real link between a and b was never touched.
    const changes = (es: typeof a.events) => es.filter((e) => ['member_up', 'member_down', 'child_moved', 'child_stopping'].includes(e.event.type));
    expect(changes(a.events.slice(eventsA))).toEqual([]);
    expect(changes(b.events.slice(eventsB))).toEqual([]);
    expect(await snapshot([a, b])).toEqual(before);
  });

  it('a HELLO reflected back to its sender is refused (self_link)', async () => {
    const l = await RawLink.connect(a.address);
    const own = (await l.next(2000))!;
    l.send(own);
    expect((await l.closed).reason).toBe('self_link');
    expect(rejections(a, 'self_link')).toBeGreaterThan(0);
  });

  it('a wrong secret: the dialer\'s proof fails (bad_auth) and the listener never proves', async () => {
    const l = await RawLink.connect(a.address);
    await expect(dialerHandshake(l, hello({ scope: SCOPE, name: 'intruder', auth: AUTH_MODE.secret }), clusterKey(new TextEncoder().encode('wrong'), SCOPE), 2000)).rejects.toThrow(/no AUTH/);
    expect((await l.closed).reason).toBe('bad_auth');
  });

  it('control: a raw client with the secret speaking the documented protocol is accepted, and its frames carry valid MACs', async () => {
    const l = await RawLink.connect(a.address);
    const { crypto, peer } = await dialerHandshake(l, hello({ scope: SCOPE, name: 'raw-member', auth: AUTH_MODE.secret }), clusterKey(new TextEncoder().encode(SECRET), SCOPE));
    expect(peer.name).toBe('a');
    await a.waitEvent((e) => e.type === 'member_up' && e.name === 'raw-member', 5000, 'raw-member up');
    // a's first frames after the handshake open under the derived keys, in order
    for (let i = 0; i < 3; i++) {
      const wire = (await l.next(2000))!;
      const frame = crypto.open(wire);
      expect(frame).not.toBeNull();
      expect(decodeFrame(frame!).type).toBeGreaterThan(MSG.AUTH);
    }
    l.close();
    await a.waitEvent((e) => e.type === 'member_down' && e.name === 'raw-member', 5000, 'raw-member down');
  });
});
