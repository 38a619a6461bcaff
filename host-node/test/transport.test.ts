// The ws transport on real sockets: binary frames both ways, refusals, dial failures, a peer
// that vanishes mid-frame, wss with a self-signed certificate.
import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { WsTransport } from '../src/transport-ws.js';
import type { TransportHandlers } from '@trellis/core';
import { waitUntil } from '../../conformance/src/drivers/process-member.js';

interface Log { opened: [number, boolean, string][]; frames: [number, Uint8Array][]; closed: [number, string][]; failed: [string, string, string | undefined][] }
function recorder(): { h: TransportHandlers; log: Log } {
  const log: Log = { opened: [], frames: [], closed: [], failed: [] };
  return {
    log,
    h: {
      opened: (l, o, a) => log.opened.push([l, o, a]),
      frame: (l, b) => log.frames.push([l, b.slice()]),
      closed: (l, r) => log.closed.push([l, r]),
      dialFailed: (a, r, f) => log.failed.push([a, r, f]),
    },
  };
}

const open: WsTransport[] = [];
afterEach(async () => { await Promise.all(open.splice(0).map((t) => t.shutdown())); });
const make = (o: ConstructorParameters<typeof WsTransport>[0] = {}) => { const t = new WsTransport(o); open.push(t); return t; };

describe('WsTransport', () => {
  it('carries binary frames both ways and reports one close per link', async () => {
    const server = make({ listen: { host: '127.0.0.1', port: 0 } });
    const s = recorder();
    const addr = await server.listen(s.h);
    expect(addr).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const client = make();
    const c = recorder();
    await client.listen(c.h);
    client.dial(addr!);
    await waitUntil(() => c.log.opened.length === 1 && s.log.opened.length === 1, 5000, 'open');
    const [cl] = c.log.opened[0];
    const [sl] = s.log.opened[0];
    client.send(cl, new Uint8Array([1, 2, 3]));
    server.send(sl, new Uint8Array([4, 5]));
    await waitUntil(() => s.log.frames.length === 1 && c.log.frames.length === 1, 5000, 'frames');
    expect([...s.log.frames[0][1]]).toEqual([1, 2, 3]);
    expect([...c.log.frames[0][1]]).toEqual([4, 5]);
    client.close(cl, 'bye_for_now');
    await waitUntil(() => s.log.closed.length === 1, 5000, 'server sees close');
    expect(s.log.closed[0][1]).toBe('bye_for_now');
    expect(c.log.closed).toEqual([[cl, 'bye_for_now']]);
    client.send(cl, new Uint8Array([9])); // ignored: closed link
  });

  it('refuses text frames and frames over the limit', async () => {
    const server = make({ listen: { host: '127.0.0.1', port: 0 }, maxFrameBytes: 1024 });
    const s = recorder();
    const addr = await server.listen(s.h);
    const { WebSocket } = await import('ws');
    for (const [data, binary] of [['text', false], [Buffer.alloc(4096), true]] as const) {
      const ws = new WebSocket(addr!);
      await new Promise((r) => ws.on('open', r));
      ws.send(data, { binary });
      await new Promise((r) => ws.on('close', r));
    }
    await waitUntil(() => s.log.closed.length === 2, 5000, 'both closed');
    expect(s.log.closed.map((c) => c[1]).sort()).toEqual(['frame_too_large', 'text_frame']);
    expect(s.log.frames).toEqual([]);
  });

  it('reports a dial to a closed port (refused) or a bad address (other) as dialFailed', async () => {
    const t = make();
    const r = recorder();
    await t.listen(r.h);
    const probe = make({ listen: { host: '127.0.0.1', port: 0 } });
    const addr = await probe.listen(recorder().h);
    await probe.shutdown();
    t.dial(addr!);
    t.dial('http://not-a-ws-address');
    await waitUntil(() => r.log.failed.length === 2, 10000, 'dial failures');
    expect(r.log.opened).toEqual([]);
    // Refused is what lets the core take a member whose link closed as gone at once.
    expect(r.log.failed.find((f) => f[0] === addr)?.[2]).toBe('refused');
    expect(r.log.failed.find((f) => f[0] === 'http://not-a-ws-address')?.[2]).toBe('other');
  });

  it('survives a peer that vanishes in the middle of a frame', async () => {
    const server = make({ listen: { host: '127.0.0.1', port: 0 } });
    const s = recorder();
    const addr = new URL((await server.listen(s.h))!);
    const sock = connect(Number(addr.port), addr.hostname);
    await new Promise((r) => sock.on('connect', r));
    sock.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await waitUntil(() => s.log.opened.length === 1, 5000, 'upgrade');
    // a masked binary frame header announcing 100 bytes, then only 3 of them
    sock.write(Buffer.from([0x82, 0x80 | 100, 1, 2, 3, 4, 9, 9, 9]));
    sock.destroy();
    await waitUntil(() => s.log.closed.length === 1, 5000, 'close reported');
    expect(s.log.frames).toEqual([]);
  });

  it('speaks wss:// with TLS options and a client that trusts the certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'key.pem')), cert = readFileSync(join(dir, 'cert.pem'));
    const server = make({ listen: { host: '127.0.0.1', port: 0 }, tls: { key, cert } });
    const s = recorder();
    const addr = await server.listen(s.h);
    expect(addr).toMatch(/^wss:\/\//);
    const client = make({ clientTls: { ca: cert } });
    const c = recorder();
    await client.listen(c.h);
    client.dial(addr!);
    await waitUntil(() => c.log.opened.length === 1, 5000, 'tls open');
    client.send(c.log.opened[0][0], new Uint8Array([7]));
    await waitUntil(() => s.log.frames.length === 1, 5000, 'tls frame');
    // an untrusting client fails to dial
    const strict = make();
    const st = recorder();
    await strict.listen(st.h);
    strict.dial(addr!);
    await waitUntil(() => st.log.failed.length === 1, 5000, 'untrusted dial fails');
  });
});
