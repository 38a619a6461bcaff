// A raw WebSocket client that speaks docs/PROTOCOL.md (version 2) itself, for tests that act as
// a member or as an attacker against real members: it sends exactly the bytes it is told to.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { AUTH_MODE, MSG, decodeFrame, encodeFrame, helloFrame, readHello, type Hello } from '../protocol.js';
import { LinkCrypto, deriveLinkKeys, transcriptHash } from '../protocol-session.js';

export class RawLink {
  private inbox: Uint8Array[] = [];
  private wake: (() => void) | undefined;
  /** Code and reason of the close, once closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  isOpen = true;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => { this.inbox.push(new Uint8Array(d)); this.wake?.(); });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => { this.isOpen = false; this.wake?.(); resolve({ code, reason: reason.toString() }); }));
    ws.on('error', () => undefined);
  }

  static connect(url: string, timeoutMs = 5000): Promise<RawLink> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const t = setTimeout(() => { ws.terminate(); reject(new Error(`connect ${url}: timeout`)); }, timeoutMs);
      ws.once('open', () => { clearTimeout(t); resolve(new RawLink(ws)); });
      ws.once('error', (e) => { clearTimeout(t); reject(e); });
    });
  }

  send(b: Uint8Array): void { if (this.isOpen) this.ws.send(b); }

  /** The next message received, or null if the link closes or `timeoutMs` passes first. */
  async next(timeoutMs: number): Promise<Uint8Array | null> {
    const end = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      if (!this.isOpen || Date.now() >= end) return null;
      await new Promise<void>((r) => { this.wake = r; setTimeout(r, Math.max(1, end - Date.now())); });
      this.wake = undefined;
    }
    return this.inbox.shift()!;
  }

  close(): void { this.ws.terminate(); }
}

/** A HELLO for a raw client (defaults: no listen address, weight 1, no kinds). */
export function hello(h: Partial<Hello> & Pick<Hello, 'scope' | 'name' | 'auth'>): Uint8Array {
  return helloFrame({
    incarnation: BigInt(Date.now()) * 1000n, nonce: randomBytes(16), listen: '', weight: 1, kinds: [],
    credentialKinds: [], expiresAtMs: 0n, heartbeatWantMs: 250, ...h,
  });
}

export interface Authenticated { crypto: LinkCrypto; peer: Hello }

/**
 * Runs the dialer's side of the handshake on `link` with `rootKey`: sends `ownHello`, reads the
 * listener's HELLO, proves, and checks the listener's proof. Throws with what went wrong.
 */
export async function dialerHandshake(link: RawLink, ownHello: Uint8Array, rootKey: Uint8Array, timeoutMs = 5000): Promise<Authenticated> {
  link.send(ownHello);
  const peerHello = await link.next(timeoutMs);
  if (!peerHello) throw new Error('no HELLO from the listener');
  const peer = readHello(decodeFrame(peerHello));
  const keys = deriveLinkKeys(rootKey, transcriptHash(ownHello, peerHello), 'dialer');
  link.send(encodeFrame({ type: MSG.AUTH, fields: [keys.ownProof] }));
  const auth = await link.next(timeoutMs);
  if (!auth) throw new Error(`no AUTH from the listener (closed: ${JSON.stringify(await Promise.race([link.closed, Promise.resolve(null)]))})`);
  const f = decodeFrame(auth);
  if (f.type !== MSG.AUTH || Buffer.compare(f.fields[0] as Uint8Array, keys.peerProof) !== 0) throw new Error('the listener\'s proof does not verify');
  return { crypto: new LinkCrypto(keys), peer };
}

export { AUTH_MODE };
