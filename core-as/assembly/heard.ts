// A member is heard when its bytes arrive, not when the frames queued before them are handled.
// A host that is behind (a start burst, a peer's bulk deltas) queues frames and hands them to the
// core in slices; silence is judged at the end of each slice. Without this, a heartbeat that
// arrived in time but waits behind a megabyte of another member's deltas looks like silence, and
// the member is declared down while it is alive (the false suspicion of a 100k start burst).
//
// EV_HEARD lists, ahead of a batch, the links on which frames arrived since the last one and when
// the last of them arrived (the host's clock at its callback, never later than the step's tick).
// The time only moves a member's lastHeard forward to that arrival, which is never later than
// the time handling the frame would give it; so it changes nothing for a member whose frames are
// handled in the same batch, and a member that sends nothing is still down after failureTimeoutMs.
// The bytes are not authenticated yet: a frame that fails its MAC when handled closes the link.

import { Reader } from './io';
import { Node } from './node';

/** One EV_HEARD entry: u32 link, f64 atMs. */
const HEARD_ENTRY_BYTES: i32 = 12;
/** Entries in one EV_HEARD at most: more links than a node ever has open (members, handshakes, tabs). */
const HEARD_LINKS_MAX: i32 = 1 << 20;

export function onHeard(n: Node, r: Reader): void {
  const count = r.count(HEARD_LINKS_MAX, HEARD_ENTRY_BYTES);
  for (let i = 0; i < count; i++) {
    const link = r.u32();
    const at = <i64>r.f64();
    if (!r.ok) return;
    heardOn(n, link, at < n.now ? at : n.now);
  }
}

function heardOn(n: Node, linkId: u32, at: i64): void {
  if (!n.links.has(linkId)) return;
  const l = n.links.get(linkId);
  if (l.pending || !n.members.has(l.peerName)) return;
  const m = n.members.get(l.peerName);
  if (m.inc != l.peerInc || m.link != linkId) return;
  if (at > m.lastHeard) m.lastHeard = at;
  if (at > n.lastFrameAt) n.lastFrameAt = at;
}
