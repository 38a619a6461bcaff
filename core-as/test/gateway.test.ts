// The gateway's decisions, on in-memory sockets (the Chromium tests cover the real ones): who may
// join, what cuts a tab off, and that a tab's channels end with its socket, whatever their state.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Gateway, GatewayEncoder, GatewayLocalLinks, GATEWAY_LOCAL_ADDRESS, GW_ACCEPT, GW_CLOSE, GW_DATA, GW_HELLO, GW_OPEN, GW_OPENED, GW_PAIR_KEY, GW_PAIR_KEY_GIVEN, GW_PAIR_KEY_REFUSED, GW_WELCOME,
  PAIR_KEY_REQUESTS_BURST_MAX, PAIR_KEY_REQUESTS_PER_SECOND_MAX, gatewayText, readGatewayMessage,
  type GatewayEvent, type GatewayOptions, type GatewayPipeEvents, type GatewaySocketEvents, type TransportHandlers,
} from '@trellis/core';

class Sock {
  sent: Uint8Array[] = [];
  closed: { code: number; reason: string } | undefined;
  send(b: Uint8Array) { this.sent.push(b.slice()); }
  close(code: number, reason: string) { this.closed ??= { code, reason }; }
  messages() { return this.sent.map((b) => readGatewayMessage(b)!); }
}

function setup(opts: Partial<GatewayOptions> = {}, secret?: string) {
  const events: GatewayEvent[] = [];
  const pipes: { address: string; sock: Sock; ev: GatewayPipeEvents }[] = [];
  let now = 1000;
  const known = new Set(['ws://m:1', 'ws://member:2', 'ws://member:3']);
  const gw = new Gateway({ origins: ['http://ok'], ...opts }, {
    secret, scope: 'demo', linkPayloadMax: 1024, knownAddress: (a) => known.has(a), notify: (e) => events.push(e), now: () => now,
    dial: (address, ev) => { const sock = new Sock(); pipes.push({ address, sock, ev }); return sock; },
  });
  gw.setAddress('ws://gw:1');
  const enc = new GatewayEncoder();
  const tab = (auth: unknown = { mode: 'insecure' }, name?: string) => {
    const sock = new Sock();
    expect(gw.route('/trellis/browser', 'http://ok')).toEqual({ kind: 'tab' });
    const ev: GatewaySocketEvents = gw.acceptTab(sock, 'http://ok');
    ev.message(enc.json(GW_HELLO, 0, { v: 1, auth, name }));
    return { sock, ev, send: (op: number, ch: number, payload: Uint8Array | string) => ev.message(typeof payload === 'string' ? enc.text(op, ch, payload) : enc.encode(op, ch, payload)) };
  };
  return { gw, events, pipes, tab, advance: (ms: number) => { now += ms; } };
}

describe('gateway', () => {
  it('welcomes a tab with an address under its path, and refuses other origins before the upgrade', () => {
    const { gw, tab, events } = setup();
    const t = tab();
    const [w] = t.sock.messages();
    expect(w.op).toBe(GW_WELCOME);
    const welcome = JSON.parse(gatewayText(w.payload));
    expect(welcome.address).toBe(`ws://gw:1/trellis/browser/${welcome.tab}`);
    expect(welcome.member).toBe('ws://gw:1');
    expect(gw.route('/trellis/browser', 'http://evil')).toEqual({ kind: 'refuse', status: 403, reason: 'origin' });
    expect(gw.route('/trellis/browser', undefined)).toMatchObject({ kind: 'refuse', reason: 'origin' });
    expect(gw.route('/other', 'http://ok')).toEqual({ kind: 'none' });
    expect(events.map((e) => e.type)).toEqual(['gateway_tab_joined', 'gateway_refused', 'gateway_refused']);
  });

  it('auth: insecure only without a secret, the secret only when it matches', () => {
    expect(setup().tab().sock.closed).toBeUndefined();
    expect(setup({}, 's3cret').tab().sock.closed).toEqual({ code: 4401, reason: 'auth' });
    expect(setup({}, 's3cret').tab({ mode: 'secret', secret: 's3cret' }).sock.closed).toBeUndefined();
    expect(setup({}, 's3cret').tab({ mode: 'secret', secret: 's3creT' }).sock.closed).toEqual({ code: 4401, reason: 'auth' });
    expect(setup().tab({ mode: 'credential', token: 'x' }).sock.closed).toEqual({ code: 4401, reason: 'auth' });
    expect(setup().tab({ mode: 'nonsense' }).sock.closed).toEqual({ code: 4401, reason: 'hello' });
  });

  it('pipes a tab\'s dial both ways; a failed dial is a CLOSE before OPENED', () => {
    const { tab, pipes } = setup();
    const t = tab();
    t.send(GW_OPEN, 1, 'ws://member:2');
    t.send(GW_OPEN, 3, 'ws://member:3');
    expect(pipes.map((p) => p.address)).toEqual(['ws://member:2', 'ws://member:3']);
    pipes[0].ev.opened();
    t.send(GW_DATA, 1, new Uint8Array([1, 2, 3]));
    expect(pipes[0].sock.sent).toEqual([new Uint8Array([1, 2, 3])]);
    pipes[0].ev.data(new Uint8Array([9]));
    pipes[1].ev.closed('refused');
    t.send(GW_OPEN, 5, 'http://not-a-member');
    const ms = t.sock.messages().slice(1).map((m) => [m.op, m.channel, gatewayText(m.payload)]);
    expect(ms).toEqual([[GW_OPENED, 1, ''], [GW_DATA, 1, '\t'], [GW_CLOSE, 3, 'refused'], [GW_CLOSE, 5, 'bad_address']]);
  });

  it('dials only addresses the member knows as a member\'s or a seed\'s; refuses others on the channel, with an event', () => {
    const { tab, pipes, events } = setup();
    const t = tab();
    t.send(GW_OPEN, 1, 'ws://10.0.0.1:22');
    t.send(GW_OPEN, 3, 'ws://m:1/admin');
    t.send(GW_OPEN, 5, 'ws://m:1');
    expect(pipes.map((p) => p.address)).toEqual(['ws://m:1']);
    const ms = t.sock.messages().slice(1).map((m) => [m.op, m.channel, gatewayText(m.payload)]);
    expect(ms).toEqual([[GW_CLOSE, 1, 'not_a_member'], [GW_CLOSE, 3, 'not_a_member']]);
    expect(events.filter((e) => e.type === 'gateway_dial_refused').map((e) => 'address' in e && e.address)).toEqual(['ws://10.0.0.1:22', 'ws://m:1/admin']);
    // A refused dial is the tab's to retry: it is not cut off, and the channel number is free again.
    expect(t.sock.closed).toBeUndefined();
    t.send(GW_OPEN, 1, 'ws://member:2');
    expect(pipes.map((p) => p.address)).toEqual(['ws://m:1', 'ws://member:2']);
  });

  it('routes a member\'s dial of a tab as an even channel, and closes every channel when the tab\'s socket closes', () => {
    const { gw, tab, pipes, events } = setup();
    const t = tab();
    const id = JSON.parse(gatewayText(t.sock.messages()[0].payload)).tab as string;
    expect(gw.route(`/trellis/browser/${id}`, undefined)).toEqual({ kind: 'dial_in', tab: id });
    expect(gw.route('/trellis/browser/nobody', undefined)).toMatchObject({ kind: 'refuse', status: 404 });
    expect(gw.route(`/trellis/browser/${id}`, 'http://evil')).toMatchObject({ kind: 'refuse', status: 403 });
    const inbound = new Sock();
    const ev = gw.acceptDialIn(id, inbound, '10.0.0.1:5')!;
    ev.message(new Uint8Array([7]));
    t.send(GW_OPEN, 1, 'ws://member:2');
    const accept = t.sock.messages()[1];
    expect([accept.op, accept.channel, gatewayText(accept.payload)]).toEqual([GW_ACCEPT, 2, '10.0.0.1:5']);
    t.ev.closed('connection_lost');
    expect(inbound.closed).toEqual({ code: 4000, reason: 'tab_gone' });
    expect(pipes[0].sock.closed).toEqual({ code: 4000, reason: 'tab_gone' });
    expect(events.at(-1)).toEqual({ type: 'gateway_tab_closed', tab: id, reason: 'socket_closed' });
    expect(gw.stats()).toEqual({ tabs: 0, channels: 0 });
  });

  it('cuts off a tab over its channel, frame-size and rate limits, or breaking the framing', () => {
    const channels = setup({ limits: { channelsMax: 2 } }).tab();
    for (const ch of [1, 3, 5]) channels.send(GW_OPEN, ch, 'ws://m:1');
    expect(channels.sock.closed).toEqual({ code: 4429, reason: 'limit_channels' });

    const frame = setup({ limits: { frameBytesMax: 100 } }).tab();
    frame.send(GW_DATA, 1, new Uint8Array(96));
    expect(frame.sock.closed).toEqual({ code: 4429, reason: 'limit_frame' });

    const r = setup({ limits: { bytesPerSecondMax: 1000 } });
    const rate = r.tab();
    for (let i = 0; i < 9; i++) { r.advance(100); rate.send(GW_DATA, 1, new Uint8Array(95)); }
    expect(rate.sock.closed).toBeUndefined(); // 100 bytes per 100 ms is the limit, not over it
    rate.send(GW_DATA, 1, new Uint8Array(995));
    rate.send(GW_DATA, 1, new Uint8Array(95));
    expect(rate.sock.closed).toEqual({ code: 4429, reason: 'limit_rate' });

    const even = setup().tab();
    even.send(GW_OPEN, 2, 'ws://m:1');
    expect(even.sock.closed).toEqual({ code: 4400, reason: 'protocol' });
  });

  it('credential tabs: joins under the credential\'s name; malformed, other-scope, expired, other-name and forged ones are refused', async () => {
    const nowMs = 1000; // setup's clock
    const ok = token('s3cret', 'demo', 'tab-a', ['echo'], nowMs + 60_000);
    const cases: [unknown, string | undefined, string | undefined][] = [
      [{ mode: 'credential', token: ok }, 'tab-a', undefined],
      [{ mode: 'credential', token: ok }, undefined, undefined],
      [{ mode: 'credential', token: 'not-a-token' }, 'tab-a', 'credential_malformed'],
      [{ mode: 'credential', token: token('s3cret', 'other', 'tab-a', ['echo'], nowMs + 60_000) }, 'tab-a', 'credential_scope'],
      [{ mode: 'credential', token: token('s3cret', 'demo', 'tab-a', ['echo'], nowMs) }, 'tab-a', 'credential_expired'],
      [{ mode: 'credential', token: ok }, 'tab-b', 'credential_name'],
      [{ mode: 'credential', token: token('guess', 'demo', 'tab-a', ['echo'], nowMs + 60_000) }, 'tab-a', 'credential_forged'],
      [{ mode: 'credential', token: token('s3cret', 'demo', 'tab-a', ['echo'], nowMs + 60_000, ['echo', 'admin']) }, 'tab-a', 'credential_forged'],
    ];
    for (const [auth, name, refused] of cases) {
      const { tab, events } = setup({}, 's3cret');
      const t = tab(auth, name);
      await until(() => t.sock.closed !== undefined || t.sock.sent.length > 0);
      if (refused === undefined) {
        expect(t.sock.closed).toBeUndefined();
        expect(t.sock.messages()[0].op).toBe(GW_WELCOME);
        expect(events).toEqual([expect.objectContaining({ type: 'gateway_tab_joined', member: 'tab-a' })]);
      } else {
        expect(t.sock.closed).toEqual({ code: 4401, reason: refused });
        expect(events).toEqual([{ type: 'gateway_refused', reason: refused, origin: 'http://ok' }]);
      }
    }
  });

  it('pair keys: a credential tab gets the key of its own credential\'s name and a peer, for epochs its credential reaches', async () => {
    const nowMs = 1000; // setup's clock: epoch 0
    const { tab, advance } = setup({}, 's3cret');
    const t = tab({ mode: 'credential', token: token('s3cret', 'demo', 'tab-a', [], nowMs + 150_000) }, 'tab-a');
    await until(() => t.sock.sent.length > 0);
    const ask = async (id: number, q: unknown) => {
      t.send(GW_PAIR_KEY, id, JSON.stringify(q));
      await until(() => t.sock.messages().some((m) => m.channel === id && (m.op === GW_PAIR_KEY_GIVEN || m.op === GW_PAIR_KEY_REFUSED)));
      const m = t.sock.messages().find((x) => x.channel === id)!;
      return m.op === GW_PAIR_KEY_GIVEN ? Buffer.from(m.payload).toString('hex') : `refused ${gatewayText(m.payload)}`;
    };
    expect(await ask(1, { peer: 'tab-b', epoch: 2 })).toBe(pairKeyHex('s3cret', 'demo', 2, 'tab-a', 'tab-b'));
    expect(await ask(2, { peer: 'tab-b', epoch: 0 })).toBe(pairKeyHex('s3cret', 'demo', 0, 'tab-b', 'tab-a'));
    expect(await ask(3, { peer: 'tab-b', epoch: 3 })).toBe('refused epoch');
    expect(await ask(4, { peer: 'tab-a', epoch: 1 })).toBe('refused self');
    // a renewed credential (same name, later expiry) raises the epochs it answers for; another name's does not
    expect(await ask(5, { peer: 'tab-c', epoch: 4, token: token('s3cret', 'demo', 'tab-c', [], nowMs + 250_000) })).toBe('refused credential_name');
    expect(await ask(6, { peer: 'tab-c', epoch: 4, token: token('guess', 'demo', 'tab-a', [], nowMs + 250_000) })).toBe('refused credential_forged');
    expect(await ask(7, { peer: 'tab-c', epoch: 4, token: token('s3cret', 'demo', 'tab-a', [], nowMs + 250_000) })).toBe(pairKeyHex('s3cret', 'demo', 4, 'tab-a', 'tab-c'));
    expect(await ask(8, { peer: 'tab-c', epoch: 4 })).toBe(pairKeyHex('s3cret', 'demo', 4, 'tab-a', 'tab-c'));
    // an epoch already over (more than one back) is refused, and nothing once the credential expired
    advance(180_000);
    expect(await ask(9, { peer: 'tab-b', epoch: 1 })).toBe('refused epoch');
    advance(100_000);
    expect(await ask(10, { peer: 'tab-b', epoch: 4 })).toBe('refused credential_expired');
    expect(t.sock.closed).toBeUndefined();
    // a request that does not decode breaks the framing
    t.send(GW_PAIR_KEY, 11, '{"peer":""}');
    expect(t.sock.closed).toEqual({ code: 4400, reason: 'protocol' });
  });

  it('pair keys: a tab past its request bucket is refused rate_limited and stays joined; the bucket refills by the second', async () => {
    const { tab, advance } = setup({}, 's3cret');
    const t = tab({ mode: 'credential', token: token('s3cret', 'demo', 'tab-a', [], 1000 + 150_000) }, 'tab-a');
    await until(() => t.sock.sent.length > 0);
    const answers = () => t.sock.messages().filter((m) => m.op === GW_PAIR_KEY_GIVEN || m.op === GW_PAIR_KEY_REFUSED);
    const refusedRate = () => answers().filter((m) => m.op === GW_PAIR_KEY_REFUSED && gatewayText(m.payload) === 'rate_limited').map((m) => m.channel);
    const burst = PAIR_KEY_REQUESTS_BURST_MAX + 10;
    for (let i = 1; i <= burst; i++) t.send(GW_PAIR_KEY, i, JSON.stringify({ peer: `tab-p${i}`, epoch: 0 }));
    await until(() => answers().length === burst);
    // the burst is answered with keys, the requests after it are refused (at once, no HMAC)
    expect(answers().filter((m) => m.op === GW_PAIR_KEY_GIVEN)).toHaveLength(PAIR_KEY_REQUESTS_BURST_MAX);
    expect(refusedRate()).toEqual(Array.from({ length: 10 }, (_, i) => PAIR_KEY_REQUESTS_BURST_MAX + 1 + i));
    expect(t.sock.closed).toBeUndefined();
    // one second later, PAIR_KEY_REQUESTS_PER_SECOND_MAX more are given
    advance(1000);
    const more = PAIR_KEY_REQUESTS_PER_SECOND_MAX + 1;
    for (let i = 0; i < more; i++) t.send(GW_PAIR_KEY, 1000 + i, JSON.stringify({ peer: 'tab-b', epoch: 0 }));
    await until(() => answers().length === burst + more);
    const later = answers().slice(burst);
    expect(later.filter((m) => m.op === GW_PAIR_KEY_GIVEN).map((m) => Buffer.from(m.payload).toString('hex'))).toEqual(Array(PAIR_KEY_REQUESTS_PER_SECOND_MAX).fill(pairKeyHex('s3cret', 'demo', 0, 'tab-a', 'tab-b')));
    expect(refusedRate().at(-1)).toBe(1000 + PAIR_KEY_REQUESTS_PER_SECOND_MAX);
    expect(t.sock.closed).toBeUndefined();
  });

  it('pair keys: a tab without a credential gets none', async () => {
    const { tab } = setup({}, 's3cret');
    const t = tab({ mode: 'secret', secret: 's3cret' });
    t.send(GW_PAIR_KEY, 1, JSON.stringify({ peer: 'tab-b', epoch: 0 }));
    await until(() => t.sock.sent.length > 1);
    const m = t.sock.messages()[1];
    expect([m.op, m.channel, gatewayText(m.payload)]).toEqual([GW_PAIR_KEY_REFUSED, 1, 'not_credential']);
  });

  it('a credential tab that sends anything before its WELCOME is cut off', async () => {
    const { tab, events } = setup({}, 's3cret');
    const t = tab({ mode: 'credential', token: token('s3cret', 'demo', 'tab-a', [], 61_000) }, 'tab-a');
    t.send(GW_OPEN, 1, 'ws://m:1');
    expect(t.sock.closed).toEqual({ code: 4400, reason: 'protocol' });
    await new Promise((r) => setTimeout(r, 20));
    expect(t.sock.sent).toEqual([]);
    expect(events).toEqual([]);
  });

  it('a tab\'s dial of the gateway\'s own member is an inbound link of that member in process; other dials go through the host\'s dial', async () => {
    const got: string[] = [];
    const handlers: TransportHandlers = {
      opened: (link, outbound, address) => got.push(`opened ${link} ${outbound} ${address}`),
      frame: (link, bytes) => got.push(`frame ${link} ${Array.from(bytes).join(',')}`),
      closed: (link, reason) => got.push(`closed ${link} ${reason}`),
      dialFailed: () => got.push('dialFailed'),
    };
    let nextId = 7;
    const local = new GatewayLocalLinks(() => handlers, () => nextId++);
    const dialed: string[] = [];
    const gw = new Gateway({ origins: ['http://ok'] }, {
      secret: undefined, scope: 'demo', linkPayloadMax: 1024, knownAddress: () => true, notify: () => undefined,
      dial: (address) => { dialed.push(address); return new Sock(); },
      dialOwn: (ev) => local.open(ev),
    });
    gw.setAddress('ws://gw:1/');
    const enc = new GatewayEncoder();
    const sock = new Sock();
    const ev = gw.acceptTab(sock, 'http://ok');
    ev.message(enc.json(GW_HELLO, 0, { v: 1, auth: { mode: 'insecure' } }));
    ev.message(enc.text(GW_OPEN, 1, 'ws://gw:1'));
    ev.message(enc.text(GW_OPEN, 3, 'ws://member:2'));
    expect(dialed).toEqual(['ws://member:2']);
    await Promise.resolve();
    expect(got).toEqual([`opened 7 false ${GATEWAY_LOCAL_ADDRESS}`]);
    // Tab to member, member to tab, and the member's close reaches the tab as the channel's CLOSE.
    ev.message(enc.encode(GW_DATA, 1, new Uint8Array([1, 2])));
    expect(local.send(7, new Uint8Array([9]))).toBe(true);
    expect(local.send(8, new Uint8Array([9]))).toBe(false);
    const ms = () => sock.messages().slice(1).map((m) => [m.op, m.channel, gatewayText(m.payload)]);
    expect(ms()).toEqual([[GW_OPENED, 1, ''], [GW_DATA, 1, '\t']]);
    expect(local.close(7, 'bye')).toBe(true);
    expect(got).toEqual([`opened 7 false ${GATEWAY_LOCAL_ADDRESS}`, 'frame 7 1,2', 'closed 7 bye']);
    expect(ms()[2]).toEqual([GW_CLOSE, 1, 'bye']);
    // A second link to the member; the tab's socket closes: the member's link closes at once.
    ev.message(enc.text(GW_OPEN, 5, 'ws://gw:1'));
    await Promise.resolve();
    ev.closed('socket_closed');
    expect(got.slice(3)).toEqual([`opened 8 false ${GATEWAY_LOCAL_ADDRESS}`, 'closed 8 tab_gone']);
    expect(local.send(8, new Uint8Array([1]))).toBe(false);
  });
});

/** A credential token as docs/PROTOCOL.md defines it, built on node:crypto (an independent encoder). `claimKinds`: kinds written into the token, if not those keyed. */
function token(secret: string, scope: string, name: string, kinds: string[], expiresAtMs: number, claimKinds = kinds): string {
  const str = (s: string) => { const b = Buffer.from(s, 'utf8'); const n = Buffer.alloc(4); n.writeUInt32LE(b.length); return Buffer.concat([n, b]); };
  const u32 = (x: number) => { const n = Buffer.alloc(4); n.writeUInt32LE(x); return n; };
  const u64 = (x: number) => { const n = Buffer.alloc(8); n.writeBigUInt64LE(BigInt(x)); return n; };
  const list = (ks: string[]) => Buffer.concat([u32(ks.length), ...ks.map(str)]);
  const key = createHmac('sha256', secret).update(Buffer.concat([str('trellis/v2 credential'), str(scope), str(name), list(kinds), u64(expiresAtMs)])).digest();
  // no tab link keys (u64 firstEpoch 0, an empty list): the gateway does not check them
  return Buffer.concat([Buffer.from([3]), str(scope), str(name), list(claimKinds), u64(expiresAtMs), u32(key.length), key, u64(0), u32(0)]).toString('base64url');
}

/** docs/PROTOCOL.md's pair key on node:crypto (an independent implementation). */
function pairKeyHex(secret: string, scope: string, epoch: number, a: string, b: string): string {
  const str = (s: string) => { const x = Buffer.from(s, 'utf8'); const n = Buffer.alloc(4); n.writeUInt32LE(x.length); return Buffer.concat([n, x]); };
  const e = Buffer.alloc(8); e.writeBigUInt64LE(BigInt(epoch));
  const [lo, hi] = Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0 ? [a, b] : [b, a];
  return createHmac('sha256', secret).update(Buffer.concat([str('trellis/v4 tab pair'), str(scope), e, str(lo), str(hi)])).digest('hex');
}

async function until(cond: () => boolean, deadlineMs = 2000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 1));
  }
}
