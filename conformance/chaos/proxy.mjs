// A fault-injecting TCP proxy between chaos members, on 127.0.0.1 only. One listener per member
// (the address that member advertises); every connection to it is forwarded to where the member
// really listens. Faults apply per pair of members, both directions:
//   cut        close every connection of the pair, reset new ones until healed
//   blackhole  forward nothing, keep the sockets open; bytes wait (bounded) and flow on heal,
//              as TCP retransmission would deliver them
//   delay      forward every chunk `delayMs` late, in order
// The dialer of a connection is found through /proc (which member process owns the socket's
// local port), again once a new member process is registered (it dials before its spawn is
// reported) and before any fault is set; a connection whose dialer still cannot be named keeps
// pair '?' and no pair faults (the `unidentified` count says how many).
import { createServer, connect } from 'node:net';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { sharedNow } from '../fixtures/shared-clock.mjs';

/** Open connections through the proxy, all listeners together. */
export const CONNECTIONS_MAX = 128;
/** Bytes one direction may hold back (blackhole or delay) before its connection is dropped. */
export const HELD_BYTES_MAX = 4 << 20;

const pairKey = (a, b) => (a < b ? `${a}|${b}` : `${b}|${a}`);

export class FaultProxy {
  constructor() {
    this.listeners = new Map(); // name -> { server, port, target }
    this.pids = new Map(); // member pid -> name
    this.links = new Map(); // pairKey -> { mode, delayMs }
    this.conns = new Set();
    this.accepted = 0;
    this.unidentified = 0;
    this.refused = 0;
    /** What happened to connections, for reading a failed run: { t, what, key, why }. */
    this.log = [];
  }

  note(what, key, why) { this.log.push({ t: sharedNow(), what, key, why }); }

  /** Opens the listener member `name` advertises; resolves to its port. */
  async listen(name) {
    const entry = { server: createServer((s) => this.accept(name, s)), port: 0, target: 0 };
    await new Promise((resolve, reject) => { entry.server.once('error', reject); entry.server.listen(0, '127.0.0.1', resolve); });
    entry.port = entry.server.address().port;
    this.listeners.set(name, entry);
    return entry.port;
  }

  /** Where member `name` (process `pid`) really listens now; a restart gives a new one. */
  setTarget(name, port, pid) {
    this.listeners.get(name).target = port;
    for (const [p, n] of this.pids) if (n === name) this.pids.delete(p);
    this.pids.set(pid, name);
    // A member dials its seeds before its spawn is reported: name those connections now, or
    // they would never be subject to a fault.
    this.identifyAll();
  }

  /** Names the dialer of every connection that had none when it was accepted. */
  identifyAll() {
    for (const c of this.conns) {
      if (c.key !== '?') continue;
      const from = this.dialer(c.remotePort, c.client.localPort);
      if (!from) continue;
      c.key = pairKey(from, c.to);
      this.unidentified--;
      if (this.fault(c.key).mode === 'cut') c.destroy('cut');
    }
  }

  /**
   * Sets a fault between members a and b: { mode: 'ok' | 'cut' | 'blackhole' | 'delay', delayMs }.
   * Faults on one pair may overlap (a second one set before the first is healed): each has its
   * `token`, heals on its own (healLink), and the pair suffers the worst of those still set.
   * Mode 'ok' clears every fault of the pair.
   */
  setLink(a, b, fault, token = '') {
    this.identifyAll();
    const key = pairKey(a, b);
    if (fault.mode === 'ok') this.links.delete(key);
    else {
      if (!this.links.has(key)) this.links.set(key, new Map());
      this.links.get(key).set(token, fault);
    }
    this.applied(key);
  }

  /** Ends the fault `token` of the pair; the others set on it stay. */
  healLink(a, b, token = '') {
    const key = pairKey(a, b);
    const set = this.links.get(key);
    if (!set) return;
    set.delete(token);
    if (set.size === 0) this.links.delete(key);
    this.applied(key);
  }

  /** The pair's connections follow its fault now: cut ones close, held bytes flow on. */
  applied(key) {
    const mode = this.fault(key).mode;
    for (const c of [...this.conns]) {
      if (c.key !== key) continue;
      if (mode === 'cut') c.destroy('cut');
      else for (const d of c.dirs) d.flush();
    }
  }

  healAll() { for (const key of [...this.links.keys()]) { const [a, b] = key.split('|'); this.setLink(a, b, { mode: 'ok' }); } }

  /** The worst fault set on the pair: cut, then blackhole, then the longest delay. */
  fault(key) {
    const set = this.links.get(key);
    if (!set) return OK;
    let worst = OK;
    for (const f of set.values()) if (SEVERITY[f.mode] > SEVERITY[worst.mode] || (f.mode === worst.mode && (f.delayMs ?? 0) > (worst.delayMs ?? 0))) worst = f;
    return worst;
  }

  accept(to, client) {
    const target = this.listeners.get(to).target;
    const from = this.dialer(client.remotePort, client.localPort);
    const key = from ? pairKey(from, to) : '?';
    this.accepted++;
    if (!from) this.unidentified++;
    if (this.conns.size >= CONNECTIONS_MAX || !target || this.fault(key).mode === 'cut') {
      this.refused++;
      this.note('refused', key, this.conns.size >= CONNECTIONS_MAX ? 'connections_max' : !target ? 'no_target' : 'cut');
      resetSocket(client);
      return;
    }
    const upstream = connect(target, '127.0.0.1');
    this.conns.add(new Connection(this, key, client, upstream, to, client.remotePort));
  }

  /** The member whose process owns the local end of a connection from `port` (to the proxy's `toPort`). */
  dialer(port, toPort) {
    const inode = socketInode(port, toPort);
    if (!inode) return undefined;
    const link = `socket:[${inode}]`;
    for (const [pid, name] of this.pids) {
      let fds;
      try { fds = readdirSync(`/proc/${pid}/fd`); } catch { continue; }
      for (const fd of fds) {
        try { if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return name; } catch { /* closed meanwhile */ }
      }
    }
    return undefined;
  }

  async close() {
    for (const c of [...this.conns]) c.destroy('proxy_closed');
    await Promise.all([...this.listeners.values()].map((l) => new Promise((resolve) => l.server.close(resolve))));
    this.listeners.clear();
  }
}

/**
 * Closes a socket with a reset (RST), as a member's refusing port would, unless its own end has
 * begun: a client that half-closed first was ended by Node (allowHalfOpen false), and Node 20
 * then refuses the reset (a shutdown is pending) but counts the handle as closing, so it is
 * never closed and the process spins at exit (CleanupHandles) for ever. Such a socket is
 * destroyed instead: it has sent or is sending its FIN already.
 */
export function resetSocket(socket) {
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}

const OK = { mode: 'ok', delayMs: 0 };
const SEVERITY = { ok: 0, delay: 1, blackhole: 2, cut: 3 };

/**
 * The inode of the IPv4 loopback socket from local port `port` to `toPort`, from /proc/net/tcp.
 * The table is the whole machine's: an earlier connection from the same ephemeral port to
 * elsewhere may linger there (TIME_WAIT, inode 0), so the remote port must match too.
 */
function socketInode(port, toPort) {
  let text;
  try { text = readFileSync('/proc/net/tcp', 'utf8'); } catch { return undefined; }
  return inodeIn(text, port, toPort);
}

/** socketInode on the text of a /proc/net/tcp table (exported for its test). */
export function inodeIn(text, port, toPort) {
  const hex = (p) => `:${p.toString(16).toUpperCase().padStart(4, '0')}`;
  const local = hex(port), remote = toPort ? hex(toPort) : '';
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (!f[1]?.endsWith(local) || !f[1].startsWith('0100007F') || f[9] === '0') continue;
    if (remote && !f[2]?.endsWith(remote)) continue;
    return f[9];
  }
  return undefined;
}

/** One proxied connection: a client socket, its upstream, one Direction each way. */
class Connection {
  constructor(proxy, key, client, upstream, to, remotePort) {
    this.proxy = proxy;
    this.key = key;
    this.to = to;
    this.remotePort = remotePort;
    this.client = client;
    this.upstream = upstream;
    this.done = false;
    this.dirs = [new Direction(this, client, upstream), new Direction(this, upstream, client)];
    // A refused or reset upstream is passed on as a reset, as if the member's port refused the dial.
    upstream.on('error', (e) => { if (!this.done) resetSocket(client); this.destroy(`upstream_${e.code ?? 'error'}`); });
    client.on('error', (e) => this.destroy(`client_${e.code ?? 'error'}`));
    client.on('close', () => this.destroy('client_closed'));
    upstream.on('close', () => this.destroy('upstream_closed'));
  }

  destroy(why) {
    if (this.done) return;
    this.done = true;
    this.proxy.note('closed', this.key, why);
    this.proxy.conns.delete(this);
    for (const d of this.dirs) d.clear();
    this.client.destroy();
    this.upstream.destroy();
  }
}

/** Bytes from src to dst, subject to the pair's fault. At most one timer. */
class Direction {
  constructor(conn, src, dst) {
    this.conn = conn;
    this.dst = dst;
    this.queue = []; // { due, buf }
    this.held = 0;
    this.lastDue = 0;
    this.timer = undefined;
    src.on('data', (buf) => this.push(buf));
  }

  push(buf) {
    if (this.conn.done) return;
    const f = this.conn.proxy.fault(this.conn.key);
    const due = Math.max(performance.now() + (f.mode === 'delay' ? f.delayMs : 0), this.lastDue);
    this.lastDue = due;
    this.queue.push({ due, buf });
    this.held += buf.length;
    if (this.held > HELD_BYTES_MAX) { this.conn.destroy('held_bytes_max'); return; }
    this.flush();
  }

  /** Writes what is due, unless blackholed; re-arms the timer for the next chunk. */
  flush() {
    if (this.conn.done) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.conn.proxy.fault(this.conn.key).mode === 'blackhole') return;
    const now = performance.now();
    while (this.queue.length && this.queue[0].due <= now) {
      const { buf } = this.queue.shift();
      this.held -= buf.length;
      this.dst.write(buf);
    }
    if (this.queue.length) this.timer = setTimeout(() => this.flush(), Math.max(1, this.queue[0].due - now));
  }

  clear() { clearTimeout(this.timer); this.timer = undefined; this.queue = []; this.held = 0; }
}
