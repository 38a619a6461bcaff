// The gateway: a server member accepts a tab's WebSocket and multiplexes logical links over it
// (docs/PROTOCOL.md, "Gateway"). A tab's dial becomes a real link the gateway opens to the
// member; a member's dial of a tab (a ws:// address under the gateway's path naming the tab)
// becomes a new channel on the tab's socket. The gateway only pipes bytes: every logical link is
// end to end (handshake, MACs, failure detection), and no Trellis frame is parsed here.
//
// It decides, per tab: whether it may join (origin allow-list, then the HELLO's auth), and when
// it is cut off (channels, bytes/s, message size). A tab's channels all close the moment its
// socket does. The host supplies sockets (accepted and dialed) and routes upgrades here.
import {
  GATEWAY_HEADER_BYTES, GW_ACCEPT, GW_CLOSE, GW_CLOSE_LIMIT, GW_CLOSE_PROTOCOL, GW_CLOSE_REFUSED, GW_DATA, GW_HELLO, GW_OPEN,
  GW_OPENED, GW_PAIR_KEY, GW_PAIR_KEY_GIVEN, GW_PAIR_KEY_REFUSED, GW_WELCOME, GatewayEncoder, gatewayText, readGatewayMessage, readPairKeyRequest,
  readTabHello, type TabAuth, type TabWelcome,
} from './gateway-wire.js';
import { derivePairKey, pairKeyEpoch } from './pair-key.js';
import { checkTabCredential, credentialVerifierKey, equalBytes, type CredentialRefusal } from './gateway-credential.js';
import { MAX_FRAME_BYTES_DEFAULT, transportPayloadMax } from './limits.js';
import { WS_CLOSE_CODE, closeText } from './websocket.js';

/** The path tabs connect to, unless the option names another. */
export const GATEWAY_PATH_DEFAULT = '/trellis/browser';

export interface GatewayLimits {
  /** Open channels per tab (its dials and members' dials of it). Exceeded by the tab: cut off. */
  channelsMax: number;
  /** Bytes per second a tab may send, averaged over one second (a token bucket). */
  bytesPerSecondMax: number;
  /** The largest message a tab may send (a whole Trellis frame plus the gateway header). */
  frameBytesMax: number;
  /** How long a tab has after the upgrade to send its HELLO. */
  helloMs: number;
  /** PAIR_KEY requests a tab may make at once (a token bucket, full at HELLO): past it, refused `rate_limited`. */
  pairKeyRequestsBurstMax: number;
  /** PAIR_KEY requests per second that refill it. */
  pairKeyRequestsPerSecondMax: number;
}

/**
 * A tab asks for one pair key per credential peer and epoch and keeps at most
 * PAIR_KEYS_CACHED_MAX (256, transport-gateway.ts) of them: a burst that large is legitimate. Each
 * answer costs the member an HMAC, and the bytes/s bound alone would let one tab ask for about a
 * hundred thousand a second; past the bucket a request is refused (its link fails no_shared_key
 * and the redial asks again later), and the tab stays joined.
 */
export const PAIR_KEY_REQUESTS_BURST_MAX = 256;
export const PAIR_KEY_REQUESTS_PER_SECOND_MAX = 64;

export const GATEWAY_LIMITS_DEFAULT: GatewayLimits = {
  channelsMax: 64,
  bytesPerSecondMax: 8 * 1024 * 1024,
  /** For the default maxFrameBytes; a member's own maxFrameBytes sets it (GatewayHost.linkPayloadMax). */
  frameBytesMax: transportPayloadMax(MAX_FRAME_BYTES_DEFAULT) + GATEWAY_HEADER_BYTES,
  helloMs: 5000,
  pairKeyRequestsBurstMax: PAIR_KEY_REQUESTS_BURST_MAX,
  pairKeyRequestsPerSecondMax: PAIR_KEY_REQUESTS_PER_SECOND_MAX,
};

export interface GatewayOptions {
  /** Where tabs connect (default GATEWAY_PATH_DEFAULT); members dial a tab at `<path>/<tab>`. */
  path?: string;
  /** Origins (scheme://host:port) whose pages may connect, or '*' for any. */
  origins: readonly string[] | '*';
  limits?: Partial<GatewayLimits>;
}

/** What the gateway reports (the Supervisor emits these as events). */
export type GatewayEvent =
  /** `member`: the name a credential tab joins under (its credential's), '' for other tabs. */
  | { type: 'gateway_tab_joined'; tab: string; origin: string; member: string }
  | { type: 'gateway_tab_closed'; tab: string; reason: GatewayCutReason | 'socket_closed' | 'shutdown' }
  | { type: 'gateway_refused'; reason: GatewayRefusal; origin: string }
  /** A tab's dial the gateway did not make: the address is no member's or seed's this member knows. */
  | { type: 'gateway_dial_refused'; tab: string; address: string; reason: GatewayDialRefusal };

/** Why a tab's dial is refused (the CLOSE reason on its channel). */
export type GatewayDialRefusal = 'bad_address' | 'not_a_member';

/**
 * Why a tab's PAIR_KEY is refused (the PAIR_KEY_REFUSED payload; the tab's link then fails with
 * no_shared_key): the tab holds no credential, asks for its own name, or for an epoch its
 * credential does not reach (past its expiry, or already over); or the renewed credential it
 * presents is refused; or it asked for more than its bucket allows (`rate_limited`, GatewayLimits).
 */
export type PairKeyRefusal = 'not_credential' | 'self' | 'epoch' | 'rate_limited' | CredentialRefusal;

export type GatewayCutReason = 'limit_channels' | 'limit_rate' | 'limit_frame' | 'protocol';
export type GatewayRefusal = 'origin' | 'auth' | 'hello' | 'unknown_tab' | 'limit_channels' | CredentialRefusal;

/** A socket as the gateway uses it: the host's accepted or dialed WebSocket. */
export interface GatewaySocket {
  send(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
}

/** What a host reports for a socket it handed to the gateway. */
export interface GatewaySocketEvents {
  message(bytes: Uint8Array): void;
  closed(reason: string): void;
}

/** What the gateway hears about a link it dialed. */
export interface GatewayPipeEvents {
  opened(): void;
  data(bytes: Uint8Array): void;
  closed(reason: string): void;
}

/** The host's client dial (a normal WebSocket to a member's address). */
export type GatewayDial = (address: string, events: GatewayPipeEvents) => GatewaySocket;

/** What the host hands a Gateway: the member's secret and link size, its client dial, where events go. */
export interface GatewayHost {
  secret: string | Uint8Array | undefined;
  /** The member's scope: a tab's credential must be for it. */
  scope: string;
  /** The largest message on the member's links (transportPayloadMax of its maxFrameBytes). */
  linkPayloadMax: number;
  dial: GatewayDial;
  /**
   * The gateway's dial of its own member's address, in process (gateway-local.ts), instead of a
   * loopback socket through `dial`. Optional: without it every dial goes through `dial`.
   */
  dialOwn?(events: GatewayPipeEvents): GatewaySocket;
  /**
   * Whether `address` is one this member knows as a member's or a seed's: the only addresses the
   * gateway dials for a tab, so a page cannot use it to reach anything else on the network.
   */
  knownAddress(address: string): boolean;
  notify(e: GatewayEvent): void;
  now?(): number;
}

/** What a host transport tells its gateway of its member: GatewayHost less what the host's own gateway adapter adds. */
export type GatewayMember = Pick<GatewayHost, 'secret' | 'scope' | 'knownAddress' | 'dialOwn'>;

/** Where an upgrade request goes: a tab's socket, a member's dial of a tab, a refusal, or not the gateway's. */
export type GatewayRoute =
  | { kind: 'tab' }
  | { kind: 'dial_in'; tab: string }
  | { kind: 'refuse'; status: number; reason: GatewayRefusal }
  | { kind: 'none' };

interface Channel { pipe: GatewaySocket | undefined; open: boolean }

interface Tab {
  id: string;
  socket: GatewaySocket;
  origin: string;
  joined: boolean;
  /** Its HELLO is being checked (a credential's key is an async HMAC): nothing else may come yet. */
  checking: boolean;
  gone: boolean;
  /** The member name its credential is for ('' for a tab of an insecure or secret cluster). */
  member: string;
  /** Its credential's expiry (the latest it presented): pair keys are given for epochs up to it. */
  expiresAtMs: number;
  channels: Map<number, Channel>;
  nextInbound: number;
  tokens: number;
  refilledMs: number;
  /** Its PAIR_KEY budget (pairKeyRequestsBurstMax at most) and when it was last refilled. */
  pairKeyTokens: number;
  pairKeyRefilledMs: number;
  helloTimer: ReturnType<typeof setTimeout> | undefined;
}

const TAB_ID_BYTES = 12;

function tabId(): string {
  const b = new Uint8Array(TAB_ID_BYTES);
  crypto.getRandomValues(b);
  let s = 't';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export class Gateway {
  readonly path: string;
  readonly limits: GatewayLimits;
  private readonly secret: Uint8Array | undefined;
  private readonly scope: string;
  private verifierKey: Promise<CryptoKey> | undefined;
  private readonly tabs = new Map<string, Tab>();
  private readonly out = new GatewayEncoder();
  private base = '';
  private readonly dial: GatewayDial;
  private readonly dialOwn: ((events: GatewayPipeEvents) => GatewaySocket) | undefined;
  private readonly knownAddress: (address: string) => boolean;
  private readonly notify: (e: GatewayEvent) => void;
  private readonly now: () => number;

  constructor(private readonly opts: GatewayOptions, host: GatewayHost) {
    this.path = (opts.path ?? GATEWAY_PATH_DEFAULT).replace(/\/+$/, '');
    this.limits = { ...GATEWAY_LIMITS_DEFAULT, frameBytesMax: host.linkPayloadMax + GATEWAY_HEADER_BYTES, ...opts.limits };
    this.secret = typeof host.secret === 'string' ? new TextEncoder().encode(host.secret) : host.secret;
    this.scope = host.scope;
    this.dial = host.dial;
    this.dialOwn = host.dialOwn ? (ev) => host.dialOwn!(ev) : undefined;
    this.knownAddress = (a) => host.knownAddress(a);
    this.notify = (e) => host.notify(e);
    this.now = host.now ?? Date.now;
  }

  /** The member's own address (ws://host:port); a tab's address is `<address><path>/<tab>`. */
  setAddress(address: string): void { this.base = address.replace(/\/+$/, ''); }

  /** Where an upgrade for `pathname` from a page of `origin` goes. */
  route(pathname: string, origin: string | undefined): GatewayRoute {
    const tabPath = pathname === this.path;
    if (!tabPath && !pathname.startsWith(this.path + '/')) return { kind: 'none' };
    // A tab must come from an allowed page; a member's dial of a tab carries no Origin, and a
    // page that dials a tab directly must be allowed too.
    const o = this.opts.origins;
    if (o !== '*' && (tabPath || origin !== undefined) && (origin === undefined || !o.includes(origin))) {
      this.notify({ type: 'gateway_refused', reason: 'origin', origin: origin ?? '' });
      return { kind: 'refuse', status: 403, reason: 'origin' };
    }
    if (tabPath) return { kind: 'tab' };
    const id = pathname.slice(this.path.length + 1);
    const tab = this.tabs.get(id);
    if (!tab || !tab.joined) return { kind: 'refuse', status: 404, reason: 'unknown_tab' };
    if (tab.channels.size >= this.limits.channelsMax) return { kind: 'refuse', status: 503, reason: 'limit_channels' };
    return { kind: 'dial_in', tab: id };
  }

  /** A tab's socket after its upgrade was routed `tab`. */
  acceptTab(socket: GatewaySocket, origin: string): GatewaySocketEvents {
    const tab: Tab = {
      id: tabId(), socket, origin, joined: false, checking: false, gone: false, member: '', expiresAtMs: 0, channels: new Map(), nextInbound: 2,
      tokens: this.limits.bytesPerSecondMax, refilledMs: this.now(),
      pairKeyTokens: this.limits.pairKeyRequestsBurstMax, pairKeyRefilledMs: this.now(), helloTimer: undefined,
    };
    tab.helloTimer = setTimeout(() => { if (!tab.joined) this.refuse(tab, 'hello'); }, this.limits.helloMs);
    (tab.helloTimer as { unref?: () => void }).unref?.();
    return {
      message: (bytes) => this.fromTab(tab, bytes),
      closed: () => this.drop(tab, 'socket_closed'),
    };
  }

  /** A member's dial of a tab after its upgrade was routed `dial_in`; undefined if the tab is gone meanwhile. */
  acceptDialIn(id: string, socket: GatewaySocket, remote: string): GatewaySocketEvents | undefined {
    const tab = this.tabs.get(id);
    if (!tab || tab.gone || tab.channels.size >= this.limits.channelsMax) return undefined;
    const channel = tab.nextInbound;
    tab.nextInbound += 2;
    const ch: Channel = { pipe: socket, open: true };
    tab.channels.set(channel, ch);
    tab.socket.send(this.out.text(GW_ACCEPT, channel, remote));
    return {
      message: (bytes) => { if (tab.channels.get(channel) === ch) tab.socket.send(this.out.encode(GW_DATA, channel, bytes)); },
      closed: (reason) => this.pipeClosed(tab, channel, ch, reason),
    };
  }

  /** Tabs joined and their open channels. */
  stats(): { tabs: number; channels: number } {
    let channels = 0;
    for (const t of this.tabs.values()) channels += t.channels.size;
    return { tabs: this.tabs.size, channels };
  }

  shutdown(): void {
    for (const tab of [...this.tabs.values()]) {
      try { tab.socket.close(WS_CLOSE_CODE, 'shutdown'); } catch { /* already closed */ }
      this.drop(tab, 'shutdown');
    }
  }

  // ---- a tab's messages -----------------------------------------------------------------------

  private fromTab(tab: Tab, bytes: Uint8Array): void {
    if (tab.gone) return;
    if (bytes.length > this.limits.frameBytesMax) { this.cut(tab, 'limit_frame'); return; }
    if (!this.spend(tab, bytes.length)) { this.cut(tab, 'limit_rate'); return; }
    const m = readGatewayMessage(bytes);
    if (!m) { this.cut(tab, 'protocol'); return; }
    if (tab.checking) { this.cut(tab, 'protocol'); return; }
    if (!tab.joined) {
      if (m.op === GW_HELLO && m.channel === 0) void this.hello(tab, m.payload);
      else this.refuse(tab, 'hello');
      return;
    }
    switch (m.op) {
      case GW_OPEN: this.open(tab, m.channel, gatewayText(m.payload)); break;
      case GW_PAIR_KEY: this.pairKey(tab, m.channel, m.payload); break;
      case GW_DATA: {
        const ch = tab.channels.get(m.channel);
        // Data for a channel that just closed crosses our CLOSE on the wire: dropped.
        if (ch?.open && ch.pipe) ch.pipe.send(m.payload);
        break;
      }
      case GW_CLOSE: {
        const ch = tab.channels.get(m.channel);
        if (!ch) break;
        tab.channels.delete(m.channel);
        try { ch.pipe?.close(WS_CLOSE_CODE, closeText(gatewayText(m.payload))); } catch { /* gone */ }
        break;
      }
      default: this.cut(tab, 'protocol');
    }
  }

  /**
   * A tab presents the cluster's own mode: no secret (insecure), the shared secret, or a
   * credential minted by a member that holds the secret (docs/SECURITY.md, "Tabs"), which binds
   * the tab to the credential's member name. Checking a credential's key is an async HMAC.
   */
  private hello(tab: Tab, payload: Uint8Array): void {
    const h = readTabHello(payload);
    if (!h) { this.refuse(tab, 'hello'); return; }
    const auth = h.auth;
    if (auth.mode === 'insecure') { if (this.secret === undefined) this.welcome(tab, ''); else this.refuse(tab, 'auth'); return; }
    if (auth.mode === 'secret') {
      if (this.secret !== undefined && equalBytes(new TextEncoder().encode(auth.secret), this.secret)) this.welcome(tab, '');
      else this.refuse(tab, 'auth');
      return;
    }
    const secret = this.secret;
    if (secret === undefined) { this.refuse(tab, 'auth'); return; }
    tab.checking = true;
    this.verifierKey ??= credentialVerifierKey(secret);
    void this.verifierKey
      .then((key) => checkTabCredential(key, this.scope, auth.token, h.name, this.now()))
      .then((c) => {
        tab.checking = false;
        if (tab.gone) return;
        if (c.ok) this.welcome(tab, c.name, c.expiresAtMs);
        else this.refuse(tab, c.reason);
      });
  }

  /**
   * PAIR_KEY: the key of the tab's own member name and `peer`, for an epoch its credential
   * reaches. The name is the one its credential was checked for, never one the tab names, so
   * only the two members of a pair can obtain its key (docs/SECURITY.md "Credential tabs linking
   * each other"). A renewed credential in the request is checked as at HELLO, for the same name.
   */
  private pairKey(tab: Tab, request: number, payload: Uint8Array): void {
    const q = readPairKeyRequest(payload);
    if (!q) { this.cut(tab, 'protocol'); return; }
    const refuse = (reason: PairKeyRefusal) => { if (!tab.gone) tab.socket.send(this.out.text(GW_PAIR_KEY_REFUSED, request, reason)); };
    const secret = this.secret;
    if (!this.spendPairKey(tab)) { refuse('rate_limited'); return; }
    if (tab.member === '' || secret === undefined) { refuse('not_credential'); return; }
    if (q.peer === tab.member) { refuse('self'); return; }
    this.verifierKey ??= credentialVerifierKey(secret);
    void this.verifierKey.then(async (key) => {
      if (q.token !== undefined) {
        const c = await checkTabCredential(key, this.scope, q.token, tab.member, this.now());
        if (!c.ok) { refuse(c.reason); return; }
        if (c.expiresAtMs > tab.expiresAtMs) tab.expiresAtMs = c.expiresAtMs;
      }
      const now = this.now();
      // An epoch already over opens no new link (a peer's HELLO expiry is in the future); one past
      // the tab's expiry is what a credential that has run out must not get.
      if (now >= tab.expiresAtMs) { refuse('credential_expired'); return; }
      if (q.epoch > pairKeyEpoch(tab.expiresAtMs) || q.epoch < pairKeyEpoch(now) - 1) { refuse('epoch'); return; }
      const k = await derivePairKey(key, this.scope, q.epoch, tab.member, q.peer);
      if (!tab.gone) tab.socket.send(this.out.encode(GW_PAIR_KEY_GIVEN, request, k));
    });
  }

  private welcome(tab: Tab, member: string, expiresAtMs = 0): void {
    clearTimeout(tab.helloTimer);
    tab.joined = true;
    tab.member = member;
    tab.expiresAtMs = expiresAtMs;
    this.tabs.set(tab.id, tab);
    const welcome: TabWelcome = { tab: tab.id, address: `${this.base}${this.path}/${tab.id}`, member: this.base };
    tab.socket.send(this.out.json(GW_WELCOME, 0, welcome));
    this.notify({ type: 'gateway_tab_joined', tab: tab.id, origin: tab.origin, member });
  }

  private open(tab: Tab, channel: number, address: string): void {
    // Tabs number their dials odd, the gateway its accepts even: a channel is one side's alone.
    if (channel % 2 !== 1 || tab.channels.has(channel)) { this.cut(tab, 'protocol'); return; }
    if (tab.channels.size >= this.limits.channelsMax) { this.cut(tab, 'limit_channels'); return; }
    if (!/^wss?:\/\//.test(address)) { this.refuseDial(tab, channel, address, 'bad_address'); return; }
    if (!this.knownAddress(address)) { this.refuseDial(tab, channel, address, 'not_a_member'); return; }
    const ch: Channel = { pipe: undefined, open: false };
    tab.channels.set(channel, ch);
    const mine = () => !tab.gone && tab.channels.get(channel) === ch;
    const events: GatewayPipeEvents = {
      opened: () => { if (!mine()) return; ch.open = true; tab.socket.send(this.out.encode(GW_OPENED, channel, new Uint8Array(0))); },
      data: (bytes) => { if (mine()) tab.socket.send(this.out.encode(GW_DATA, channel, bytes)); },
      closed: (reason) => this.pipeClosed(tab, channel, ch, reason),
    };
    ch.pipe = this.dialOwn && address === this.base ? this.dialOwn(events) : this.dial(address, events);
  }

  private refuseDial(tab: Tab, channel: number, address: string, reason: GatewayDialRefusal): void {
    tab.socket.send(this.out.text(GW_CLOSE, channel, reason));
    this.notify({ type: 'gateway_dial_refused', tab: tab.id, address, reason });
  }

  private pipeClosed(tab: Tab, channel: number, ch: Channel, reason: string): void {
    if (tab.gone || tab.channels.get(channel) !== ch) return;
    tab.channels.delete(channel);
    tab.socket.send(this.out.text(GW_CLOSE, channel, reason));
  }

  /** Token bucket: refills bytesPerSecondMax per second up to one second's worth. */
  private spend(tab: Tab, n: number): boolean {
    const now = this.now();
    const max = this.limits.bytesPerSecondMax;
    tab.tokens = Math.min(max, tab.tokens + ((now - tab.refilledMs) * max) / 1000);
    tab.refilledMs = now;
    tab.tokens -= n;
    return tab.tokens >= 0;
  }

  /** The PAIR_KEY bucket: refills pairKeyRequestsPerSecondMax per second up to pairKeyRequestsBurstMax. */
  private spendPairKey(tab: Tab): boolean {
    const now = this.now();
    const { pairKeyRequestsBurstMax: max, pairKeyRequestsPerSecondMax: perS } = this.limits;
    tab.pairKeyTokens = Math.min(max, tab.pairKeyTokens + ((now - tab.pairKeyRefilledMs) * perS) / 1000);
    tab.pairKeyRefilledMs = now;
    if (tab.pairKeyTokens < 1) return false;
    tab.pairKeyTokens -= 1;
    return true;
  }

  private refuse(tab: Tab, reason: GatewayRefusal): void {
    this.notify({ type: 'gateway_refused', reason, origin: tab.origin });
    try { tab.socket.close(GW_CLOSE_REFUSED, reason); } catch { /* gone */ }
    this.drop(tab, undefined);
  }

  private cut(tab: Tab, reason: GatewayCutReason): void {
    try { tab.socket.close(reason === 'protocol' ? GW_CLOSE_PROTOCOL : GW_CLOSE_LIMIT, reason); } catch { /* gone */ }
    this.drop(tab, reason);
  }

  /** Ends a tab: every channel closes now, whatever is still in flight. */
  private drop(tab: Tab, reason: GatewayCutReason | 'socket_closed' | 'shutdown' | undefined): void {
    if (tab.gone) return;
    tab.gone = true;
    clearTimeout(tab.helloTimer);
    for (const ch of tab.channels.values()) {
      try { ch.pipe?.close(WS_CLOSE_CODE, 'tab_gone'); } catch { /* gone */ }
    }
    tab.channels.clear();
    const joined = this.tabs.delete(tab.id);
    if (joined && reason) this.notify({ type: 'gateway_tab_closed', tab: tab.id, reason });
  }
}
