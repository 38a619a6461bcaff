// The chaos fault proxy on loopback: it names the dialing member, forwards, delays in order,
// blackholes without closing (bytes flow on heal), cuts and refuses until healed.
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { waitUntil } from '../src/drivers/member-api.js';
// @ts-expect-error plain ES module without types
import { FaultProxy, inodeIn } from '../chaos/proxy.mjs';

let proxy: InstanceType<typeof FaultProxy> | undefined;
let echo: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  await proxy?.close();
  await new Promise((r) => (echo ? echo.close(r) : r(undefined)));
});

async function setup(): Promise<number> {
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', r));
  proxy = new FaultProxy();
  await proxy.listen('a');
  const port = await proxy.listen('b');
  // This test process plays member a (the dialer); b is the echo server.
  proxy.setTarget('a', 1, process.pid);
  proxy.setTarget('b', (echo!.address() as { port: number }).port, 0x7fffffff);
  return port;
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
    sockets.push(s);
  });
}

/** Milliseconds from writing `text` until it has come back, or undefined after `withinMs`. */
function roundTrip(s: Socket, text: string, withinMs: number): Promise<number | undefined> {
  const t0 = performance.now();
  let got = '';
  return new Promise((resolve) => {
    const timer = setTimeout(() => { s.off('data', on); resolve(undefined); }, withinMs);
    const on = (d: Buffer) => { got += d.toString(); if (got === text) { clearTimeout(timer); s.off('data', on); resolve(performance.now() - t0); } };
    s.on('data', on);
    s.write(text);
  });
}

describe('chaos fault proxy', () => {
  it('forwards, and names the dialer from /proc', async () => {
    const s = await dial(await setup());
    expect(await roundTrip(s, 'hello', 2000)).toBeDefined();
    expect(proxy.accepted).toBe(1);
    expect(proxy.unidentified).toBe(0);
    expect([...proxy.conns][0].key).toBe('a|b');
  });

  it('names a dialer registered after it connected, and a fault set before applies to it then', async () => {
    const port = await setup();
    proxy.setTarget('a', 1, 0x7ffffffe); // the dialing process (this one) is not registered yet
    const s = await dial(port);
    // The dial resolves at the client's connect; the proxy accepts on its own callback.
    await waitUntil(() => proxy.conns.size === 1, 5000, 'the proxy to accept the dial');
    expect([...proxy.conns][0].key).toBe('?');
    proxy.setLink('a', 'b', { mode: 'cut' }); // not yet named: not cut
    expect(s.destroyed).toBe(false);
    const closed = new Promise((r) => s.once('close', r));
    proxy.setTarget('a', 1, process.pid); // its spawn is reported: named, and the cut applies
    await closed;
    expect(proxy.unidentified).toBe(0);
  });

  it('delays both directions, in order', async () => {
    const s = await dial(await setup());
    proxy.setLink('a', 'b', { mode: 'delay', delayMs: 100 });
    expect(await roundTrip(s, 'one-two-three', 3000)).toBeGreaterThanOrEqual(195);
  });

  it('blackholes without closing; held bytes arrive on heal', async () => {
    const s = await dial(await setup());
    proxy.setLink('b', 'a', { mode: 'blackhole' });
    const late = roundTrip(s, 'held', 3000);
    await new Promise((r) => setTimeout(r, 300));
    expect(s.destroyed).toBe(false);
    proxy.setLink('a', 'b', { mode: 'ok' });
    expect(await late).toBeGreaterThanOrEqual(290);
  });

  it('cuts: closes the pair\'s connections and resets new ones until healed', async () => {
    const port = await setup();
    const s = await dial(port);
    const closed = new Promise((r) => s.once('close', r));
    proxy.setLink('a', 'b', { mode: 'cut' });
    await closed;
    const err = await new Promise<string>((r) => {
      const again = connect(port, '127.0.0.1');
      sockets.push(again);
      again.once('error', (e: Error & { code?: string }) => r(e.code ?? ''));
      again.once('close', () => r('closed'));
    });
    expect(['ECONNRESET', 'closed']).toContain(err);
    expect(proxy.refused).toBe(1);
    proxy.healAll();
    expect(await roundTrip(await dial(port), 'back', 2000)).toBeDefined();
  });

  it('overlapping faults on one pair heal one by one: the pair stays cut until its last cut heals', async () => {
    // The harness once keyed a pair's fault by the pair: a second fault before the first heal
    // replaced the first, and the first heal ended both, so the checker's excuse windows were
    // wrong (a real partition reported as an overlap on a planned move).
    const port = await setup();
    const s = await dial(port);
    const closed = new Promise((r) => s.once('close', r));
    proxy.setLink('a', 'b', { mode: 'cut' }, 'first');
    proxy.setLink('a', 'b', { mode: 'delay', delayMs: 100 }, 'second');
    await closed;
    expect(proxy.fault('a|b').mode).toBe('cut');
    proxy.healLink('a', 'b', 'second');
    expect(proxy.fault('a|b').mode).toBe('cut');
    proxy.setLink('a', 'b', { mode: 'blackhole' }, 'third');
    proxy.healLink('a', 'b', 'first');
    expect(proxy.fault('a|b').mode).toBe('blackhole');
    const late = roundTrip(await dial(port), 'held', 3000);
    await new Promise((r) => setTimeout(r, 200));
    proxy.healLink('a', 'b', 'third');
    expect(proxy.fault('a|b').mode).toBe('ok');
    expect(await late).toBeGreaterThanOrEqual(190);
  });

  it('close() leaves no connection and no timer behind', async () => {
    const s = await dial(await setup());
    proxy.setLink('a', 'b', { mode: 'delay', delayMs: 10_000 });
    s.write('pending');
    await new Promise((r) => setTimeout(r, 50));
    await proxy.close();
    expect(proxy.conns.size).toBe(0);
    proxy = undefined;
  });

  it('resets a socket whose end has begun without leaving its handle open: the process exits', async () => {
    // A client that half-closed, then its upstream failed: Node has ended the socket, and a reset
    // in that tick left a handle that kept Node 20 spinning at exit for ever (a faults bench hung
    // so for 10 minutes). The process must exit by itself, within the deadline.
    const script = `
      import { createServer, connect } from 'node:net';
      import { resetSocket } from ${JSON.stringify(new URL('../chaos/proxy.mjs', import.meta.url).href)};
      const srv = createServer((s) => { s.on('error', () => {}); s.end(); resetSocket(s); srv.close(); });
      srv.listen(0, '127.0.0.1', () => { const c = connect(srv.address().port, '127.0.0.1'); c.on('error', () => {}); c.resume(); });
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(deadline);
    expect(code).toBe(0);
  }, 15_000);

  it("names a dialer whose ephemeral port lingers in TIME_WAIT from an earlier connection elsewhere (the table is the machine's)", () => {
    // local 127.0.0.1:0xC350 (50000): first a TIME_WAIT line to port 0x1F90 (inode 0), then the live one to the proxy's 0x2710.
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:C350 0100007F:1F90 06 00000000:00000000 03:00000F5A 00000000     0        0 0 3 0000000000000000',
      '   1: 0100007F:C350 0100007F:2710 01 00000000:00000000 00:00000000 00000000  1000        0 424242 1 0000000000000000',
    ].join('\n');
    expect(inodeIn(table, 50000, 10000)).toBe('424242');
    expect(inodeIn(table, 50000, 8080)).toBeUndefined();
  });
});
