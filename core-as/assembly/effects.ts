// The effect batch the core writes for the host (one per step). Every record is
// u8 type, u32 payload length, payload; see boundary.ts and core-as/src/binding.ts.

import { Writer } from './io';
import {
  FX_SEND, FX_DIAL, FX_CLOSE, FX_RUN, FX_STOP, FX_WAKE, FX_REPLY, FX_EVENT, FX_INVARIANT, FX_DELIVER, FX_CALL_REPLY, FX_CALL_STOPPED,
  FX_MESSAGE_STATUS, FX_MESSAGES_DELIVERED, FX_DEHYDRATE, FX_REHYDRATE, FX_PAIR_KEY,
} from './boundary';
import { IO_BUFFER_BYTES } from './limits';
import { Session, TAG_BYTES } from './session';

export const out = new Writer(IO_BUFFER_BYTES);

function begin(type: u8): i32 {
  out.u8(type);
  const at = out.len;
  out.u32(0);
  return at;
}
function end(at: i32): void {
  out.patchU32(at, <u32>(out.len - at - 4));
}

/** Sends a frame; with a session, followed by its tag (the session's next send sequence number). */
export function fxSend(link: u32, frame: Writer, session: Session | null): void {
  const at = begin(FX_SEND);
  out.u32(link);
  if (session == null) {
    out.raw(frame.buf.dataStart, frame.len);
  } else {
    // Reserve first: the tag is written in place, after the frame, without a copy.
    out.reserve(frame.len + TAG_BYTES);
    out.raw(frame.buf.dataStart, frame.len);
    const p = out.buf.dataStart + <usize>out.len;
    session.seal(p - <usize>frame.len, frame.len, p);
    out.len += TAG_BYTES;
  }
  end(at);
}
export function fxDial(address: string): void {
  const at = begin(FX_DIAL);
  out.str(address);
  end(at);
}
/** Asks the host for the pair key of this node and `peer` in `epoch` (pair-key.ts). */
export function fxPairKey(peer: string, epoch: u64): void {
  const at = begin(FX_PAIR_KEY);
  out.str(peer);
  out.u64(epoch);
  end(at);
}
export function fxClose(link: u32, reason: string): void {
  const at = begin(FX_CLOSE);
  out.u32(link);
  out.str(reason);
  end(at);
}
export function fxRun(id: string, epoch: u32, kind: string, args: string): void {
  const at = begin(FX_RUN);
  out.str(id);
  out.u32(epoch);
  out.str(kind);
  out.str(args);
  end(at);
}
export function fxStop(id: string, epoch: u32, shutdownMs: u32): void {
  const at = begin(FX_STOP);
  out.str(id);
  out.u32(epoch);
  out.u32(shutdownMs);
  end(at);
}
export function fxWake(atMs: i64): void {
  const at = begin(FX_WAKE);
  out.f64(<f64>atMs);
  end(at);
}
export function fxReply(req: u32, code: u8, field: string, message: string): void {
  const at = begin(FX_REPLY);
  out.u32(req);
  out.u8(code);
  out.str(field);
  out.str(message);
  end(at);
}

/** A message for a running local child (messages.ts); `req` 0 when no reply is wanted. */
export function fxDeliver(id: string, epoch: u32, caller: string, callerInc: u64, req: u32, ptr: usize, len: i32): void {
  const at = begin(FX_DELIVER);
  out.str(id);
  out.u32(epoch);
  out.str(caller);
  out.u64(callerInc);
  out.u32(req);
  out.u32(<u32>len);
  out.raw(ptr, len);
  end(at);
}
/** The reply to one of this node's calls. */
export function fxCallReply(req: u32, ptr: usize, len: i32): void {
  const at = begin(FX_CALL_REPLY);
  out.u32(req);
  out.u32(<u32>len);
  out.raw(ptr, len);
  end(at);
}
/** One of this node's calls was delivered and its instance ended without answering it (call-stops.ts). */
export function fxCallStopped(req: u32, reason: string): void {
  const at = begin(FX_CALL_STOPPED);
  out.u32(req);
  out.str(reason);
  end(at);
}
/** A message's outcome: R_OK once delivered, or why it never will be. */
export function fxMessageStatus(req: u32, code: u8): void {
  const at = begin(FX_MESSAGE_STATUS);
  out.u32(req);
  out.u8(code);
  end(at);
}

/** The messages delivered in this step, one record for all (a send's promise per message is the host's). */
export function fxMessagesDelivered(reqs: Array<u32>): void {
  const at = begin(FX_MESSAGES_DELIVERED);
  const n = reqs.length;
  out.u32(<u32>n);
  out.reserve(n * 4);
  for (let i = 0; i < n; i++) out.u32(unchecked(reqs[i]));
  end(at);
}

/** Observer event: kind, then four strings and two numbers (meaning per kind, see binding.ts). */
export function fxEvent(kind: u8, a: string, b: string, c: string, d: string, n1: f64, n2: f64): void {
  const at = begin(FX_EVENT);
  out.u8(kind);
  out.str(a);
  out.str(b);
  out.str(c);
  out.str(d);
  out.f64(n1);
  out.f64(n2);
  end(at);
}

/** Testing builds: an invariant does not hold after this step (the message names it). */
export function fxInvariant(message: string): void {
  const at = begin(FX_INVARIANT);
  out.str(message);
  end(at);
}

/** Ask a running child for its state (handoff.ts); its stop follows the answer or the deadline. */
export function fxDehydrate(id: string, epoch: u32): void {
  const at = begin(FX_DEHYDRATE);
  out.str(id);
  out.u32(epoch);
  end(at);
}

/** The state the run of `epoch` that follows starts from. */
export function fxRehydrate(id: string, epoch: u32, version: u32, source: string, from: string, bytes: Uint8Array): void {
  const at = begin(FX_REHYDRATE);
  out.str(id);
  out.u32(epoch);
  out.u32(version);
  out.str(source);
  out.str(from);
  out.bytes(bytes);
  end(at);
}
