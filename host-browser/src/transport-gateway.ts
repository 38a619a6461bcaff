// The tab's Transport: one WebSocket to a server member's gateway, carrying every link of this
// tab as a channel (docs/PROTOCOL.md, "Gateway"). listen() sends the HELLO and resolves to the
// address the gateway gave this tab, which members dial. Only bytes: the core decides.
import {
  GW_ACCEPT, GW_CLOSE, GW_DATA, GW_DIAL_REFUSED, GW_HELLO, GW_OPEN, GW_OPENED, GW_PAIR_KEY, GW_PAIR_KEY_GIVEN, GW_PAIR_KEY_REFUSED, GW_WELCOME,
  GATEWAY_VERSION, PAIR_KEY_BYTES, GatewayEncoder, gatewayText, readGatewayMessage, type PairKeyRequest, type TabAuth, type TabHello, type TabWelcome,
  type Transport, type TransportHandlers,
} from '@trellis/core';

/** The gateway refused this tab or never answered its HELLO (start() fails with it). */
export class GatewayRefusedError extends Error {
  override name = 'GatewayRefusedError';
  constructor(readonly code: number, readonly reason: string) {
    super(`gateway refused the tab (${code}${reason ? ` ${reason}` : ''})`);
  }
}

/** How long the tab waits for the socket to open and the gateway to welcome it. */
export const GATEWAY_JOIN_TIMEOUT_MS = 10_000;
/**
 * How long shutdown() waits for the socket's closing handshake. Until it completes, what was sent
 * last (a graceful leave's claims and BYE) may still be in the browser's buffers, and the page or
 * worker that ends right after would lose it.
 */
export const GATEWAY_CLOSE_WAIT_MS = 2000;

/**
 * How long the tab waits for the gateway's answer to a PAIR_KEY before it tells the core it has
 * no key (the link is then refused with no_shared_key and redialed later).
 */
export const PAIR_KEY_FETCH_MS = 3000;
/** Pair keys kept per tab (peers × epochs); the oldest goes first. */
export const PAIR_KEYS_CACHED_MAX = 256;

interface Channel { opened: boolean; outbound: boolean; address: string }
interface PairKeyFetch { settle(key: Uint8Array | undefined): void; timer: ReturnType<typeof setTimeout> }

/**
 * `dialFailed` with why, as the core's fast death detection reads it ('refused': nothing listens
 * there); a core without that third argument ignores it.
 */
type DialFailedWhy = (address: string, reason: string, failure?: 'refused' | 'other') => void;

export class GatewayTransport implements Transport {
  private ws: WebSocket | undefined;
  private handlers!: TransportHandlers;
  private readonly channels = new Map<number, Channel>();
  private nextDial = 1;
  private readonly out = new GatewayEncoder();
  private closed = false;
  /** The address the gateway's own member advertises, once welcomed ('' before). */
  memberAddress = '';
  /** The socket's close, once it happened (code, reason). */
  closeInfo: { code: number; reason: string } | undefined;
  private socketClosed: (() => void) | undefined;
  /** Pair keys by `epoch/peer`: asked for once, shared by every link of that pair and epoch. */
  private readonly pairKeys = new Map<string, Promise<Uint8Array | undefined>>();
  private readonly pairKeyFetches = new Map<number, PairKeyFetch>();
  private nextPairKeyRequest = 1;
  /** A credential renewed since the HELLO, sent with pair key requests until the gateway has seen it. */
  private renewedToken: string | undefined;

  /**
   * `awake`, when given, is asked before every send and dial: false once the tab stalled past its
   * failure timeout, and then nothing more leaves this tab (supervisor-worker.ts ends it).
   */
  constructor(
    private readonly url: string, private readonly auth: TabAuth, private readonly name: string | undefined,
    private readonly onSocketClosed?: (code: number, reason: string) => void, private readonly awake?: () => boolean,
  ) {}

  /** Connects, sends the HELLO and resolves to this tab's address once the gateway welcomes it. */
  listen(handlers: TransportHandlers): Promise<string> {
    this.handlers = handlers;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      ws.binaryType = 'arraybuffer';
      let welcomed = false;
      const timer = setTimeout(() => { if (!welcomed) { reject(new GatewayRefusedError(0, 'join_timeout')); ws.close(); } }, GATEWAY_JOIN_TIMEOUT_MS);
      ws.onopen = () => {
        const hello: TabHello = { v: GATEWAY_VERSION, auth: this.auth, name: this.name };
        ws.send(this.out.json(GW_HELLO, 0, hello));
      };
      ws.onmessage = (e: MessageEvent) => {
        if (typeof e.data === 'string') return;
        const m = readGatewayMessage(new Uint8Array(e.data as ArrayBuffer));
        if (!m) return;
        if (!welcomed) {
          if (m.op !== GW_WELCOME) return;
          welcomed = true;
          clearTimeout(timer);
          const w = JSON.parse(gatewayText(m.payload)) as TabWelcome;
          this.memberAddress = typeof w.member === 'string' ? w.member : '';
          resolve(w.address);
          return;
        }
        this.onMessage(m.op, m.channel, m.payload);
      };
      ws.onclose = (e: CloseEvent) => {
        clearTimeout(timer);
        this.closeInfo = { code: e.code, reason: e.reason };
        this.socketClosed?.();
        if (!welcomed) { reject(new GatewayRefusedError(e.code, e.reason)); return; }
        this.socketGone(e.code, e.reason);
      };
    });
  }

  private onMessage(op: number, channel: number, payload: Uint8Array): void {
    const ch = this.channels.get(channel);
    switch (op) {
      case GW_DATA: if (ch?.opened) this.handlers.frame(channel, payload); break;
      case GW_OPENED:
        if (!ch || ch.opened || !ch.outbound) return;
        ch.opened = true;
        this.handlers.opened(channel, true, ch.address);
        break;
      case GW_ACCEPT:
        if (ch) return;
        this.channels.set(channel, { opened: true, outbound: false, address: gatewayText(payload) });
        this.handlers.opened(channel, false, gatewayText(payload));
        break;
      case GW_PAIR_KEY_GIVEN: case GW_PAIR_KEY_REFUSED: {
        const f = this.pairKeyFetches.get(channel);
        if (!f) return;
        this.pairKeyFetches.delete(channel);
        clearTimeout(f.timer);
        f.settle(op === GW_PAIR_KEY_GIVEN && payload.length === PAIR_KEY_BYTES ? payload.slice() : undefined);
        break;
      }
      case GW_CLOSE:
        if (!ch) return;
        this.channels.delete(channel);
        if (ch.opened) { this.handlers.closed(channel, gatewayText(payload)); break; }
        {
          const reason = gatewayText(payload);
          (this.handlers.dialFailed as DialFailedWhy)(ch.address, reason, reason === GW_DIAL_REFUSED ? 'refused' : 'other');
        }
        break;
    }
  }

  /** The socket is gone: every link of this tab went with it. */
  private socketGone(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const why = reason || `gateway_closed_${code}`;
    for (const [id, ch] of [...this.channels]) {
      this.channels.delete(id);
      if (ch.opened) this.handlers.closed(id, why);
      else this.handlers.dialFailed(ch.address, why);
    }
    for (const f of this.pairKeyFetches.values()) { clearTimeout(f.timer); f.settle(undefined); }
    this.pairKeyFetches.clear();
    this.onSocketClosed?.(code, reason);
  }

  /**
   * The pair key of this tab and `peer` in `epoch`, from the gateway (docs/PROTOCOL.md "Gateway"),
   * which answers for this tab's own credential name only. Cached per (peer, epoch); a refusal
   * or no answer within PAIR_KEY_FETCH_MS is undefined, and is not cached (a later link asks again).
   */
  pairKey(peer: string, epoch: number): Promise<Uint8Array | undefined> {
    const cacheKey = `${epoch}/${peer}`;
    const cached = this.pairKeys.get(cacheKey);
    if (cached) return cached;
    const ws = this.ws;
    if (this.closed || !ws || ws.readyState !== WebSocket.OPEN || (this.awake && !this.awake())) return Promise.resolve(undefined);
    const request = this.nextPairKeyRequest++;
    const q: PairKeyRequest = { peer, epoch, token: this.renewedToken };
    const p = new Promise<Uint8Array | undefined>((resolve) => {
      const timer = setTimeout(() => { this.pairKeyFetches.delete(request); resolve(undefined); }, PAIR_KEY_FETCH_MS);
      this.pairKeyFetches.set(request, { settle: resolve, timer });
    }).then((key) => {
      if (key === undefined) this.pairKeys.delete(cacheKey);
      return key;
    });
    if (this.pairKeys.size >= PAIR_KEYS_CACHED_MAX) this.pairKeys.delete(this.pairKeys.keys().next().value as string);
    this.pairKeys.set(cacheKey, p);
    ws.send(this.out.json(GW_PAIR_KEY, request, q));
    return p;
  }

  /** The tab's credential was renewed: later pair key requests carry it, so the gateway answers for the epochs it reaches. */
  credentialRenewed(token: string): void { this.renewedToken = token; }

  dial(address: string): void {
    if (this.awake && !this.awake()) return;
    if (this.closed || !this.ws || this.ws.readyState !== WebSocket.OPEN) {
      queueMicrotask(() => this.handlers.dialFailed(address, 'gateway_closed'));
      return;
    }
    const id = this.nextDial;
    this.nextDial += 2;
    this.channels.set(id, { opened: false, outbound: true, address });
    this.ws.send(this.out.text(GW_OPEN, id, address));
  }

  send(link: number, bytes: Uint8Array): void {
    if (this.awake && !this.awake()) return;
    if (!this.channels.get(link)?.opened || this.ws?.readyState !== WebSocket.OPEN) return;
    this.ws.send(this.out.encode(GW_DATA, link, bytes));
  }

  close(link: number, reason: string): void {
    const ch = this.channels.get(link);
    if (!ch) return;
    this.channels.delete(link);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(this.out.text(GW_CLOSE, link, reason));
    // The core already forgot this link; report it now so `closed` comes exactly once.
    if (ch.opened) this.handlers.closed(link, reason);
    else this.handlers.dialFailed(ch.address, reason);
  }

  /** Closes every link and the socket; resolves once the socket closed (or after GATEWAY_CLOSE_WAIT_MS). */
  async shutdown(): Promise<void> {
    for (const id of [...this.channels.keys()]) this.close(id, 'shutdown');
    this.closed = true;
    const ws = this.ws;
    if (!ws || this.closeInfo !== undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = new Promise<void>((resolve) => {
      this.socketClosed = resolve;
      timer = setTimeout(resolve, GATEWAY_CLOSE_WAIT_MS);
    });
    ws.close(1000, 'shutdown');
    await done;
    clearTimeout(timer);
  }
}
