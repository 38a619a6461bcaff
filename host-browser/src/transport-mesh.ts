// Same-origin mesh (issue 13): tabs of one origin link each other over a BroadcastChannel (one per
// scope) instead of through the gateway, and learn of each other's death from Web Locks.
//
//   directory  each tab announces { name, address } (its gateway address, which members dial)
//              when it listens, and answers a newcomer's announcement with its own; a dial of an
//              address in the directory becomes a mesh link, any other dial goes to the gateway
//   links      open / accept / data / close messages addressed to one tab (the channel is
//              shared: a tab ignores what is not for it); a link is named by its dialer and the
//              dialer's number for it
//   death      every tab holds the lock `trellis/<scope>/<name>@<address>` for its whole life (the
//              browser releases it when the tab's worker ends: closed, crashed, navigated away);
//              each peer waits on it, and when the lock is granted the peer closes its links to
//              that tab at once and refuses further dials of its address ('refused'), so the core
//              takes the tab as down without waiting out its failure timeout
//
// Only bytes: every mesh link runs the same handshake and MACs as any other link, so a tab that
// is not in the cluster learns nothing from the channel that a gateway link would not show it.
import type { Transport, TransportHandlers } from '@trellis/core';

/** Mesh link ids start here, above any gateway channel number, so the two never collide. */
export const MESH_LINK_ID_BASE = 0x4000_0000;

type MeshMessage =
  | { t: 'hello'; from: string; address: string }
  | { t: 'here'; to: string; from: string; address: string }
  | { t: 'open'; to: string; from: string; key: string }
  | { t: 'accept'; to: string; from: string; key: string }
  | { t: 'data'; to: string; from: string; key: string; bytes: Uint8Array }
  | { t: 'close'; to: string; from: string; key: string; reason: string };

interface MeshLink { id: number; peer: string; key: string; outbound: boolean; opened: boolean; address: string }

/** Locks API, where the browser has it (workers and pages of a secure or localhost origin). */
interface LockManagerLike { request(name: string, cb: () => Promise<unknown> | void): Promise<unknown> }

export function meshLockName(scope: string, name: string, address: string): string { return `trellis/${scope}/${name}@${address}`; }

export class MeshTransport implements Transport {
  private handlers!: TransportHandlers;
  private channel: BroadcastChannel | undefined;
  /** Peers on the channel: address → name. */
  private readonly peers = new Map<string, string>();
  /** Addresses of tabs whose lock was granted to us: they are gone. */
  private readonly dead = new Set<string>();
  private readonly links = new Map<number, MeshLink>();
  private readonly byKey = new Map<string, MeshLink>();
  private nextId = MESH_LINK_ID_BASE;
  private address = '';
  private closed = false;
  private releaseOwnLock: (() => void) | undefined;

  constructor(
    private readonly gateway: Transport, private readonly scope: string, private readonly name: string,
    private readonly locks: LockManagerLike | undefined = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks,
    private readonly awake?: () => boolean,
  ) {}

  async listen(handlers: TransportHandlers): Promise<string | undefined> {
    this.handlers = handlers;
    const address = await this.gateway.listen(handlers);
    if (!address) return address;
    this.address = address;
    // The lock first: a peer that hears us must find it held, or it would take us as gone.
    if (this.locks) await this.holdOwnLock();
    const ch = new BroadcastChannel(`trellis/${this.scope}`);
    this.channel = ch;
    ch.onmessage = (e: MessageEvent<MeshMessage>) => this.onMessage(e.data);
    this.post({ t: 'hello', from: this.name, address });
    return address;
  }

  /** Links over the channel that are open now (for tests and stats). */
  meshLinks(): number { let n = 0; for (const l of this.links.values()) if (l.opened) n++; return n; }

  private holdOwnLock(): Promise<void> {
    return new Promise<void>((held) => {
      void this.locks!.request(meshLockName(this.scope, this.name, this.address), () => new Promise<void>((release) => {
        this.releaseOwnLock = release;
        held();
      }));
    });
  }

  private post(m: MeshMessage): void { if (!this.closed) this.channel?.postMessage(m); }

  private onMessage(m: MeshMessage): void {
    if (this.closed || !m || typeof m !== 'object') return;
    if (m.t === 'hello') { this.learn(m.from, m.address); this.post({ t: 'here', to: m.from, from: this.name, address: this.address }); return; }
    if (m.to !== this.name) return;
    switch (m.t) {
      case 'here': this.learn(m.from, m.address); break;
      case 'open': this.accept(m.from, m.key); break;
      case 'accept': {
        const l = this.byKey.get(m.key);
        if (!l || l.opened || !l.outbound) return;
        l.opened = true;
        this.handlers.opened(l.id, true, l.address);
        break;
      }
      case 'data': { const l = this.byKey.get(m.key); if (l?.opened && l.peer === m.from) this.handlers.frame(l.id, m.bytes); break; }
      case 'close': { const l = this.byKey.get(m.key); if (l && l.peer === m.from) this.drop(l, m.reason); break; }
    }
  }

  /** A tab on the channel: dial it here from now on, and wait on its lock to hear of its end. */
  private learn(name: string, address: string): void {
    if (name === this.name || this.peers.has(address) || this.dead.has(address)) return;
    this.peers.set(address, name);
    if (this.locks) void this.locks.request(meshLockName(this.scope, name, address), () => { this.peerGone(address, name); });
  }

  private peerGone(address: string, name: string): void {
    this.peers.delete(address);
    this.dead.add(address);
    for (const l of [...this.links.values()]) if (l.peer === name) this.drop(l, 'tab_gone');
  }

  private accept(from: string, key: string): void {
    if (this.byKey.has(key)) return;
    const address = [...this.peers].find(([, n]) => n === from)?.[0] ?? `mesh:${from}`;
    const l: MeshLink = { id: this.nextId++, peer: from, key, outbound: false, opened: true, address };
    this.links.set(l.id, l);
    this.byKey.set(key, l);
    this.post({ t: 'accept', to: from, from: this.name, key });
    this.handlers.opened(l.id, false, address);
  }

  /** Forgets a link and tells the core once: closed if it was open, dialFailed if it never was. */
  private drop(l: MeshLink, reason: string): void {
    this.links.delete(l.id);
    this.byKey.delete(l.key);
    if (l.opened) this.handlers.closed(l.id, reason);
    else this.handlers.dialFailed(l.address, reason, reason === 'tab_gone' ? 'refused' : 'other');
  }

  dial(address: string): void {
    if (this.awake && !this.awake()) return;
    if (this.dead.has(address)) { queueMicrotask(() => this.handlers.dialFailed(address, 'tab_gone', 'refused')); return; }
    const peer = this.peers.get(address);
    if (peer === undefined || this.closed) { this.gateway.dial(address); return; }
    const id = this.nextId++;
    const l: MeshLink = { id, peer, key: `${this.name}/${id}`, outbound: true, opened: false, address };
    this.links.set(id, l);
    this.byKey.set(l.key, l);
    this.post({ t: 'open', to: peer, from: this.name, key: l.key });
  }

  send(link: number, bytes: Uint8Array): void {
    if (link < MESH_LINK_ID_BASE) { this.gateway.send(link, bytes); return; }
    if (this.awake && !this.awake()) return;
    const l = this.links.get(link);
    // A copy of just these bytes: cloning a view clones its whole buffer (the core's memory).
    if (l?.opened) this.post({ t: 'data', to: l.peer, from: this.name, key: l.key, bytes: bytes.slice() });
  }

  close(link: number, reason: string): void {
    if (link < MESH_LINK_ID_BASE) { this.gateway.close(link, reason); return; }
    const l = this.links.get(link);
    if (!l) return;
    this.post({ t: 'close', to: l.peer, from: this.name, key: l.key, reason });
    this.drop(l, reason);
  }

  async shutdown(): Promise<void> {
    for (const id of [...this.links.keys()]) this.close(id, 'shutdown');
    this.closed = true;
    this.channel?.close();
    this.releaseOwnLock?.();
    await this.gateway.shutdown();
  }
}
