// Watched links (EV_LINK_OPENED_WATCHED, docs/PROTOCOL.md "Same-origin mesh"): a link whose host
// vouches that it is reliable and in order and that it reports the peer's end itself, at once,
// and that names a silence bound for it: the same-origin mesh between browser tabs (a
// BroadcastChannel per link, each tab's Web Lock granted to its peers the moment the tab ends;
// host-browser/src/transport-mesh.ts).
//
// Tabs of one origin form a full mesh, so per-link idle traffic costs O(n²) in all. On a link
// whose host reports the peer's death, silence is only needed to find a peer that is alive but
// hung (its thread blocked, its lock still held), and the host may say that can take longer than
// the failure timeout: a member on a watched link is judged down after the link's silence bound,
// its HELLO on that link asks for a heartbeat a quarter of that, and the sync's DIGEST and MEMBERS
// go to it once per bound rather than every sync interval (nothing is lost on such a link; a new
// link starts with a full sync anyway). A bound not above the failure timeout changes nothing.
//
// Under a quorum ('majority' or a count) nothing is relaxed: the lease counts the members heard
// within the failure timeout (lease.ts), so every link keeps its heartbeats.

import { Node } from './node';
import { Link, Member } from './model';
import { WATCHED_LINK_SILENCE_MAX_MS, WATCHED_LINK_HEARTBEATS_PER_SILENCE } from './limits';

/** The silence bound `l` is judged by on this node: its host's (at most WATCHED_LINK_SILENCE_MAX_MS), or 0 when nothing is relaxed (not watched, a bound not above the failure timeout, a quorum). */
export function watchedSilenceMs(n: Node, l: Link): i64 {
  const s = l.watchedSilenceMs < WATCHED_LINK_SILENCE_MAX_MS ? l.watchedSilenceMs : WATCHED_LINK_SILENCE_MAX_MS;
  return s > n.cfg.failureTimeoutMs && n.cfg.quorum == 0 ? s : 0;
}

/** The heartbeat our HELLO on `l` asks for: our own, or on a watched link a share of its silence bound. */
export function watchedHeartbeatWantMs(n: Node, l: Link): i64 {
  const own = n.cfg.heartbeatMs;
  const want = watchedSilenceMs(n, l) / WATCHED_LINK_HEARTBEATS_PER_SILENCE;
  return want > own ? want : own;
}

/** `m`'s link came up (or it moved to another): what its silence bound and sync rate are on it. */
export function watchedLinkUp(n: Node, m: Member, l: Link): void {
  m.watchedSilenceMs = watchedSilenceMs(n, l);
  m.watchedSyncSkips = 0;
}

/** `m`'s watched link closed: noted, for its silence bound (silentUntil). */
export function watchedLinkLost(n: Node, m: Member): void {
  if (m.watchedSilenceMs > 0) m.watchedLostAt = n.now;
}

/**
 * Until when `m` may stay silent before it is down: its last frame plus the failure timeout, or
 * on a watched link plus that link's bound. A member whose watched link closed (it was allowed
 * the long silence until then) gets the failure timeout from the close to link again, as a
 * member on an ordinary link gets it from its last frame, but never past the long bound. (A
 * closed tab's lock makes its redial refused, and a refused redial takes it down at once.)
 */
export function silentUntil(n: Node, m: Member): i64 {
  const t = n.cfg.failureTimeoutMs;
  const long = m.watchedSilenceMs;
  if (long == 0) return m.lastHeard + t;
  if (m.link != 0) return m.lastHeard + long;
  if (m.watchedLostAt <= m.lastHeard) return m.lastHeard + t;
  return min(m.lastHeard + long, max(m.lastHeard + t, m.watchedLostAt + t));
}

/**
 * Decides, once per sync round, which members get this round's DIGEST and MEMBERS
 * (m.syncThisRound): every member on an ordinary link, a member on a watched link once per its
 * silence bound (counted in rounds from its link's start).
 */
export function watchedSyncRound(n: Node): void {
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (m.link == 0 || m.watchedSilenceMs == 0) { m.syncThisRound = true; continue; }
    const every = <i32>max<i64>(1, (m.watchedSilenceMs + n.cfg.syncIntervalMs - 1) / n.cfg.syncIntervalMs);
    m.watchedSyncSkips++;
    m.syncThisRound = m.watchedSyncSkips >= every;
    if (m.syncThisRound) m.watchedSyncSkips = 0;
  }
}
