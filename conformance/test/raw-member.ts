// A raw member for simulator tests: the test itself, one incarnation, speaking to a node over as
// many links as it opens (each handshaken with the node's secret), so it can put frames on a
// duplicate link in any order the world could deliver them.
import { World } from '../src/sim/world.js';
import { AUTH_MODE, MSG, encodeFrame, helloFrame, type Frame } from '../src/protocol.js';
import { clusterKey, deriveLinkKeys, transcriptHash, LinkCrypto } from '../src/protocol-session.js';

export interface RawMemberLink {
  raw: { link: number; received: Uint8Array[]; closed: boolean };
  /** Seals and sends `f` on this link, then lets the node handle it. */
  send(f: Frame): void;
}

/** Member `name` of `node` (a node made with `secret`), not yet linked: `open()` adds a link. */
export function rawMember(w: World, node: string, secret: Uint8Array, name = 'x') {
  return {
    open(): RawMemberLink {
      const raw = w.rawLink(node);
      w.runFor(5);
      const hello = helloFrame({ scope: w.scope, name, incarnation: 7n, nonce: new Uint8Array(16).fill(raw.link), listen: '', weight: 1,
        kinds: [], auth: AUTH_MODE.secret, credentialKinds: [], expiresAtMs: 0n, heartbeatWantMs: 100 });
      const keys = deriveLinkKeys(clusterKey(secret, w.scope), transcriptHash(hello, raw.received[0]), 'dialer');
      w.rawSend(raw, hello);
      w.rawSend(raw, encodeFrame({ type: MSG.AUTH, fields: [keys.ownProof] }));
      const crypto = new LinkCrypto(keys);
      w.runFor(5);
      return { raw, send(f: Frame) { w.rawSend(raw, crypto.seal(encodeFrame(f))); w.runFor(2); } };
    },
  };
}
