// Same-origin mesh (issue 13): tabs of one origin link each other over a BroadcastChannel (one per
// scope) instead of through the gateway, and learn of each other's death from Web Locks.
//
//   directory  each tab announces { name, address } (its gateway address, which members dial)
//              when it listens, and answers a newcomer's announcement with its own (in the
//              newcomer's inbox, below); a dial of an
//              address in the directory becomes a mesh link; a dial of an address not in it yet
//              (the core heard of the tab from a member's gossip before the tab's answer came)
//              looks for the tab's lock (below, Locks query): held, the tab is on this origin and
//              the lock's name gives its name, so the dial is a mesh link all the same; any other
//              dial goes to the gateway (a gateway limits a tab's channels: with many tabs, dials
//              of tabs through it would cut the tab off)
//   inbox      what is for one tab (the answer to an announcement, a link's `open`) goes on that
//              tab's own channel, `trellis/<scope>/to/<name>`, not the scope's: with n tabs each
//              join would otherwise deliver O(n) answers and O(n) opens to every tab, O(n²) in all
//   links      a dial is an `open` in the peer's inbox; the link itself (accept, data, close) has a BroadcastChannel of
//              its own, named for the link, so a frame reaches its peer only, not every tab of the
//              scope (which made each frame cost O(tabs) and a full mesh of n tabs O(n³))
//   batches    the frames a step sends on one link go in one message (queued, posted at the end
//              of the task): a channel message costs both renderers and the browser process a
//              wake-up, whatever its size
//   watched    mesh links are opened as watched (core-as/assembly/watched-links.ts) with the
//              tab's mesh silence bound (defaults.ts): the lock below reports a peer's end, so the
//              core asks for few heartbeats on them and judges their silence by that bound, for a
//              tab that is alive but hung
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

/** On the scope's channel ('hello') or in the addressee's inbox ('here', 'open'). */
type MeshMessage =
  | { t: 'hello'; from: string; address: string }
  | { t: 'here'; to: string; from: string; address: string }
  | { t: 'open'; to: string; from: string; key: string; address?: string };

/** On a link's own channel. */
type LinkMessage =
  | { t: 'accept'; from: string }
  | { t: 'data'; from: string; frames: Uint8Array[] }
  | { t: 'close'; from: string; reason: string };

interface MeshLink {
  id: number; peer: string; key: string; outbound: boolean; opened: boolean; address: string; channel: BroadcastChannel;
  /** Frames sent in this task, posted together at its end (flush). */
  queued: Uint8Array[];
}

/** Random bytes in a link's key: a rejoined tab (the same name, ids from the start again) never reuses an old link's channel. */
const LINK_NONCE_BYTES = 6;

function linkNonce(): string {
  const b = new Uint8Array(LINK_NONCE_BYTES);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Locks API, where the browser has it (workers and pages of a secure or localhost origin). */
interface LockManagerLike {
  request(name: string, cb: () => Promise<unknown> | void): Promise<unknown>;
  /** The origin's locks held and waited for, by every tab and worker of it. */
  query?(): Promise<{ held?: { name?: string }[] }>;
}

export function meshLockName(scope: string, name: string, address: string): string { return `trellis/${scope}/${name}@${address}`; }

/** The name of the tab whose lock (meshLockName) is among `held` for `address`, if one is. */
export function meshLockHolder(scope: string, address: string, held: readonly { name?: string }[]): string | undefined {
  const prefix = `trellis/${scope}/`, suffix = `@${address}`;
  for (const l of held) {
    const n = l.name;
    if (n && n.length > prefix.length + suffix.length && n.startsWith(prefix) && n.endsWith(suffix)) return n.slice(prefix.length, n.length - suffix.length);
  }
  return undefined;
}

/** The channel on which a tab receives what is addressed to it alone. */
export function meshInboxName(scope: string, name: string): string { return `trellis/${scope}/to/${name}`; }

export class MeshTransport implements Transport {
  private handlers!: TransportHandlers;
  private channel: BroadcastChannel | undefined;
  private inbox: BroadcastChannel | undefined;
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
    /** The silence bound of mesh links (watched links); 0: ordinary links. */
    private readonly silenceMs = 0,
  ) {}

  async listen(handlers: TransportHandlers): Promise<string | undefined> {
    this.handlers = handlers;
    const address = await this.gateway.listen(handlers);
    if (!address) return address;
    this.address = address;
    // The lock first: a peer that hears us must find it held, or it would take us as gone.
    if (this.locks) await this.holdOwnLock();
    // The inbox before the announcement: the answers to it come there.
    const inbox = new BroadcastChannel(meshInboxName(this.scope, this.name));
    this.inbox = inbox;
    inbox.onmessage = (e: MessageEvent<MeshMessage>) => this.onMessage(e.data);
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

  /**
   * Into `to`'s inbox, through a channel opened for this message alone: a channel left open
   * would also receive what every other tab sends that tab. A message is queued for its
   * receivers when it is posted, so closing at once loses nothing.
   */
  private postTo(to: string, m: MeshMessage): void {
    if (this.closed) return;
    const ch = new BroadcastChannel(meshInboxName(this.scope, to));
    ch.postMessage(m);
    ch.close();
  }

  /** The link's own channel; what arrives there is from its peer (the channel's other end). */
  private linkChannel(key: string): BroadcastChannel {
    const ch = new BroadcastChannel(`trellis/${this.scope}/link/${key}`);
    ch.onmessage = (e: MessageEvent<LinkMessage>) => this.onLinkMessage(key, e.data);
    return ch;
  }

  private onLinkMessage(key: string, m: LinkMessage): void {
    const l = this.byKey.get(key);
    if (this.closed || !l || !m || typeof m !== 'object' || m.from !== l.peer) return;
    switch (m.t) {
      case 'accept':
        if (l.opened || !l.outbound) return;
        l.opened = true;
        this.handlers.opened(l.id, true, l.address, this.silenceMs);
        break;
      case 'data':
        if (!l.opened || !Array.isArray(m.frames)) return;
        // A frame may close the link (the core refuses it): the rest of the batch is for a link that is gone.
        for (const f of m.frames) { if (this.links.get(l.id) !== l) return; if (f instanceof Uint8Array) this.handlers.frame(l.id, f); }
        break;
      case 'close': this.drop(l, m.reason); break;
    }
  }

  private onMessage(m: MeshMessage): void {
    if (this.closed || !m || typeof m !== 'object') return;
    if (m.t === 'hello') { this.learn(m.from, m.address); this.postTo(m.from, { t: 'here', to: m.from, from: this.name, address: this.address }); return; }
    if (m.to !== this.name) return;
    if (m.t === 'here') this.learn(m.from, m.address);
    else if (m.t === 'open') {
      // The dialer's address: a dial may come before its `hello` or `here` did, and its lock is watched from now.
      if (typeof m.address === 'string' && m.address) this.learn(m.from, m.address);
      this.accept(m.from, m.key);
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
    const l: MeshLink = { id: this.nextId++, peer: from, key, outbound: false, opened: true, address, channel: this.linkChannel(key), queued: [] };
    this.links.set(l.id, l);
    this.byKey.set(key, l);
    l.channel.postMessage({ t: 'accept', from: this.name } satisfies LinkMessage);
    this.handlers.opened(l.id, false, address, this.silenceMs);
  }

  /** Forgets a link and tells the core once: closed if it was open, dialFailed if it never was. */
  private drop(l: MeshLink, reason: string): void {
    this.links.delete(l.id);
    this.byKey.delete(l.key);
    l.channel.close();
    if (l.opened) this.handlers.closed(l.id, reason);
    else this.handlers.dialFailed(l.address, reason, reason === 'tab_gone' ? 'refused' : 'other');
  }

  dial(address: string): void {
    if (this.awake && !this.awake()) return;
    if (this.dead.has(address)) { queueMicrotask(() => this.handlers.dialFailed(address, 'tab_gone', 'refused')); return; }
    if (this.closed) { this.gateway.dial(address); return; }
    const peer = this.peers.get(address);
    if (peer !== undefined) { this.meshDial(address, peer); return; }
    if (!this.locks?.query) { this.gateway.dial(address); return; }
    this.locks.query().then((state) => meshLockHolder(this.scope, address, state.held ?? []), () => undefined).then((holder) => {
      if (this.closed || holder === undefined || holder === this.name) { this.gateway.dial(address); return; }
      this.learn(holder, address);
      if (this.dead.has(address)) { this.handlers.dialFailed(address, 'tab_gone', 'refused'); return; }
      this.meshDial(address, holder);
    });
  }

  private meshDial(address: string, peer: string): void {
    const id = this.nextId++;
    // The link's channel exists before the peer hears of it: its accept cannot be missed.
    const key = `${this.name}/${id}/${linkNonce()}`;
    const l: MeshLink = { id, peer, key, outbound: true, opened: false, address, channel: this.linkChannel(key), queued: [] };
    this.links.set(id, l);
    this.byKey.set(key, l);
    this.postTo(peer, { t: 'open', to: peer, from: this.name, key, address: this.address });
  }

  send(link: number, bytes: Uint8Array): void {
    if (link < MESH_LINK_ID_BASE) { this.gateway.send(link, bytes); return; }
    if (this.awake && !this.awake()) return;
    const l = this.links.get(link);
    if (!l?.opened || this.closed) return;
    // A copy of just these bytes: cloning a view clones its whole buffer (the core's memory).
    if (l.queued.push(bytes.slice()) === 1) queueMicrotask(() => this.flush(l));
  }

  /** The link's queued frames, as one message. */
  private flush(l: MeshLink): void {
    if (l.queued.length === 0) return;
    const frames = l.queued;
    l.queued = [];
    if (this.links.get(l.id) === l && !this.closed) l.channel.postMessage({ t: 'data', from: this.name, frames } satisfies LinkMessage);
  }

  close(link: number, reason: string): void {
    if (link < MESH_LINK_ID_BASE) { this.gateway.close(link, reason); return; }
    const l = this.links.get(link);
    if (!l) return;
    // Posted before the channel closes, after what was sent on it: a message is queued for the peer when it is posted.
    this.flush(l);
    if (!this.closed) l.channel.postMessage({ t: 'close', from: this.name, reason } satisfies LinkMessage);
    this.drop(l, reason);
  }

  /** Pair keys come from the gateway, whichever way the link runs (docs/PROTOCOL.md "Gateway"). */
  pairKey(peer: string, epoch: number): Promise<Uint8Array | undefined> {
    return this.gateway.pairKey?.(peer, epoch) ?? Promise.resolve(undefined);
  }

  async shutdown(): Promise<void> {
    for (const id of [...this.links.keys()]) this.close(id, 'shutdown');
    this.closed = true;
    this.channel?.close();
    this.inbox?.close();
    // The lock last: a peer granted it drops our links at once, and what we posted on them just
    // before (the leave's last claims and BYE) may not have reached it yet; the gateway's closing
    // handshake gives it that time.
    await this.gateway.shutdown();
    this.releaseOwnLock?.();
  }
}
