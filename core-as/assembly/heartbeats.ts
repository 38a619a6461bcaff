// Heartbeats at the rate each receiver asked for (docs/PROTOCOL.md "Handshake", HELLO
// `heartbeatWantMs`).
//
// Silence detection is each node's own: a member silent for its failureTimeoutMs is down. What a
// node needs from a peer is therefore a frame at least every heartbeatMs of its own, and that is
// what its HELLO asks for. A sender heartbeats each member link at the rate that member asked
// for, never more often than HEARTBEAT_INTERVAL_MIN_MS (a peer cannot make it flood). A member
// with a long failure timeout (a browser tab) is sent few heartbeats, and one with a short
// timeout still hears from us as often as it needs, whatever our own setting.
//
// A member whose heartbeat falls due within 1/HEARTBEAT_EARLY_DIVISOR of its interval goes with
// the ones due now, so a node with many members wakes a few times per interval, not once per member.

import { Node } from './node';
import { Link, Member } from './model';
import { MSG_HEARTBEAT } from './codec';
import { HEARTBEAT_INTERVAL_MIN_MS, HEARTBEAT_EARLY_DIVISOR } from './limits';
import { watchedHeartbeatWantMs } from './watched-links';

/** What we ask a peer for in our HELLO on `l`: a frame at least every heartbeatMs of ours (longer on a watched link, watched-links.ts). */
export function heartbeatWantMs(n: Node, l: Link | null): u32 {
  const want = l == null ? n.cfg.heartbeatMs : watchedHeartbeatWantMs(n, l);
  return <u32>min<i64>(want, <i64>u32.MAX_VALUE);
}

/** How often we send `m` a heartbeat: what its HELLO asked for, clamped to our floor. */
export function heartbeatEveryMs(wantMs: i64): i64 {
  return wantMs < HEARTBEAT_INTERVAL_MIN_MS ? HEARTBEAT_INTERVAL_MIN_MS : wantMs;
}

/** A member's link came up (or it moved to a new one): beat at that link's HELLO's rate, from now. */
export function heartbeatsLinkUp(n: Node, m: Member, l: Link): void {
  m.heartbeatEveryMs = heartbeatEveryMs(l.peerHeartbeatWantMs);
  m.nextHeartbeatAt = n.now + m.heartbeatEveryMs;
}

function earliest(m: Member): i64 { return m.nextHeartbeatAt - m.heartbeatEveryMs / HEARTBEAT_EARLY_DIVISOR; }

/** When the next heartbeat falls due (node.ts timer table): the latest time it may go, not its early window. */
export function heartbeatsDue(n: Node): i64 {
  let at = i64.MAX_VALUE;
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) if (ms[i].link != 0 && ms[i].nextHeartbeatAt < at) at = ms[i].nextHeartbeatAt;
  return at;
}

/** One HEARTBEAT to every linked member whose heartbeat is due now or within its early window. */
export function heartbeatsFire(n: Node): void {
  let framed = false;
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (m.link == 0 || n.now < earliest(m)) continue;
    m.nextHeartbeatAt = n.now + m.heartbeatEveryMs;
    if (!n.outbox.links.has(m.link)) continue;
    if (!framed) { n.outbox.frame(MSG_HEARTBEAT); framed = true; }
    n.outbox.to(m.link);
  }
}
