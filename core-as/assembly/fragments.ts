// Fragments: a logical message larger than FRAGMENT_BYTES travels as FRAGMENT frames, each
// carrying a `more` flag and the next slice of the message's own frame (header included). The
// receiver reassembles on the link (authenticated links only), up to MESSAGE_BYTES_MAX, then
// handles the message as if it had come in one frame; a fragment inside one is refused.

import { Reader, Writer } from './io';
import { beginFrame, endFrame, checkFrame, MSG_FRAGMENT } from './codec';
import { FERR_MALFORMED, FERR_OVERSIZED, FERR_UNEXPECTED } from './boundary';
import { FRAGMENT_BYTES, FRAME_HEADER_BYTES, FRAGMENT_OVERHEAD_BYTES, MESSAGE_BYTES_MAX, REASSEMBLY_PRESIZE_BYTES_MAX } from './limits';
import { Node, onMemberFrame } from './node';
import { Link } from './model';
import { fxSend } from './effects';
import { reject } from './handshake';

const frag = new Writer(FRAGMENT_BYTES + FRAGMENT_OVERHEAD_BYTES);

/** Sends the frame in `w` on a link, as FRAGMENT frames if it is larger than one fragment; each frame sealed once the link seals. */
export function sendFragmented(l: Link, w: Writer): void {
  const link = l.id;
  const session = l.sealing ? l.session : null;
  if (w.len <= FRAGMENT_BYTES + FRAME_HEADER_BYTES) { fxSend(link, w, session); return; }
  let off = 0;
  while (off < w.len) {
    const n = min(FRAGMENT_BYTES, w.len - off);
    frag.reset();
    const at = beginFrame(frag, MSG_FRAGMENT);
    frag.u8(off + n < w.len ? 1 : 0);
    frag.raw(w.buf.dataStart + <usize>off, n);
    endFrame(frag, at);
    fxSend(link, frag, session);
    off += n;
  }
}

/**
 * The first fragment starts with the message's own header, whose length sizes the buffer once:
 * a 1 MiB state then costs one allocation, not five (doubling from two fragments) and the copies
 * between them. A length past REASSEMBLY_PRESIZE_BYTES_MAX (or none) grows as the fragments come.
 */
function reassemblyBytes(r: Reader): i32 {
  if (r.remaining < FRAME_HEADER_BYTES) return FRAGMENT_BYTES * 2;
  const declared = <i64>load<u32>(r.ptr + <usize>r.pos + 4) + FRAME_HEADER_BYTES;
  return declared <= <i64>REASSEMBLY_PRESIZE_BYTES_MAX ? max(<i32>declared, FRAGMENT_BYTES * 2) : FRAGMENT_BYTES * 2;
}

export function onFragment(n: Node, l: Link, r: Reader, reassembled: bool): void {
  if (reassembled) { reject(n, l, FERR_UNEXPECTED); return; }
  const more = r.u8();
  if (!r.ok) { reject(n, l, FERR_MALFORMED); return; }
  let buf = l.reasm;
  if (buf == null) { buf = new Writer(reassemblyBytes(r)); l.reasm = buf; }
  if (buf.len + r.remaining > MESSAGE_BYTES_MAX) { l.reasm = null; reject(n, l, FERR_OVERSIZED); return; }
  buf.raw(r.ptr + <usize>r.pos, r.remaining);
  if (more != 0) return;
  l.reasm = null;
  const rr = new Reader(buf.buf.dataStart, buf.len);
  const t = checkFrame(rr, MESSAGE_BYTES_MAX);
  if (t < 0) { reject(n, l, -t); return; }
  onMemberFrame(n, l, <u8>t, rr, true);
}
