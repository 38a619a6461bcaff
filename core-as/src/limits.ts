// The runtime's limits in one place, unit last. Relations between them are stated where they are
// defined; the core's own limits live in core-as/assembly and reach here through the generated
// boundary module (FRAME_HEADER_BYTES, NONCE_BYTES, the field limits) or are checked by core-as/test/limits.test.ts.
import {
  FRAME_HEADER_BYTES, NONCE_BYTES, NAME_BYTES_MAX, SCOPE_BYTES_MAX, ADDRESS_BYTES_MAX, KIND_BYTES_MAX, KINDS_MAX, SECRET_BYTES_MAX,
  PENDING_LINKS_DEFAULT, HANDSHAKE_BYTES_MAX,
} from './generated/boundary.js';

export { FRAME_HEADER_BYTES, NONCE_BYTES };
/** The core's field limits (core-as/assembly/limits.ts), in UTF-8 bytes as the core counts them; options check the same. */
export { NAME_BYTES_MAX, SCOPE_BYTES_MAX, ADDRESS_BYTES_MAX, KIND_BYTES_MAX, KINDS_MAX, SECRET_BYTES_MAX };
/** Default of the maxPendingLinks option (inbound links in their handshake at once), and the handshake frame limit. */
export { PENDING_LINKS_DEFAULT, HANDSHAKE_BYTES_MAX };

/** Payload bytes per fragment when the core splits a message larger than one frame (node.ts FRAGMENT_BYTES). */
export const FRAGMENT_BYTES = 64 * 1024;

/** The core raises a smaller maxFrameBytes to this: one fragment and its headers must fit a frame. */
export const CORE_FRAME_BYTES_MIN = FRAGMENT_BYTES + 64;

/** Default for the maxFrameBytes option: the largest frame payload a node sends or accepts. */
export const MAX_FRAME_BYTES_DEFAULT = 1 << 20;

/** Smallest maxFrameBytes the options accept; above CORE_FRAME_BYTES_MIN, so the core never overrides a valid option. */
export const MAX_FRAME_BYTES_MIN = FRAGMENT_BYTES + 128;

/** Bytes a transport accepts beyond maxFrameBytes: room for the frame header (FRAME_HEADER_BYTES), its 16-byte tag and slack. */
export const TRANSPORT_SLACK_BYTES = 64;

/** The largest WebSocket message a transport accepts for a given maxFrameBytes. */
export function transportPayloadMax(maxFrameBytes: number = MAX_FRAME_BYTES_DEFAULT): number {
  return maxFrameBytes + TRANSPORT_SLACK_BYTES;
}

/** Each batch record starts with u8 type and u32 payload length (core-as/assembly/boundary.ts). */
export const RECORD_HEADER_BYTES = 5;

/** An EV_TICK record: the header and one f64 (the time the step puts ahead of its batch). */
export const TICK_RECORD_BYTES = RECORD_HEADER_BYTES + 8;

/** Initial size of an event queue; it doubles when a batch needs more. */
export const EVENT_BUFFER_BYTES = 64 * 1024;

/** Event bytes the runtime hands the core per step at most before it yields to I/O (about 1,700 startChild calls). */
export const STEP_BYTES = 64 * 1024;
/** The least it hands a step when steps run slow (a record larger than this still goes whole). */
export const STEP_BYTES_MIN = 4 * 1024;
/** How long a step and its effects should hold the event loop: the byte budget follows it (step-budget.ts). */
export const STEP_TARGET_MS = 10;
/**
 * Steps run back to back in microtasks at most this many times before the runtime yields to I/O
 * anyway: events an effect queues (a child answering a call it was just delivered) go on at once,
 * but a child that messages itself forever must not starve the heartbeats.
 */
export const STEPS_CHAINED_MAX = 64;
/**
 * A cut batch yields to I/O before its next slice only once the steps since the last yield took
 * this long: 64 KiB of small records (a start burst) is a long step, but 64 KiB of one large
 * frame (a fragment of a state handed over) is a short one, and yielding after each of a 1 MiB
 * state's 17 fragments made the move wait for I/O 17 times.
 */
export const STEP_YIELD_MS = 4;

/** How long a transport waits for a dialed link to open before it reports the dial failed. */
export const DIAL_TIMEOUT_MS = 5000;
/**
 * A transport shutting down waits at most this long for the bytes it still queues to reach the
 * OS (or for a closing handshake). Reaching the OS alone does not deliver them: a graceful stop
 * first waits for its members to read its BYE (BYE_READ_WAIT_MS).
 */
export const SHUTDOWN_DRAIN_MS = 1000;
/**
 * A graceful stop, after its BYE, waits at most this long for every member to close its link
 * (each does once it has read the BYE): reaching the OS is not enough, since a socket closed
 * before its peer read everything may be reset, and the reset drops what the kernel held.
 */
export const BYE_READ_WAIT_MS = 3000;

/** Most characters of a close reason a transport sends (the WebSocket close frame allows 123 bytes). */
export const CLOSE_REASON_CHARS_MAX = 120;

/** Seed addresses taken from one reading of the dynamic seed sources (DNS answers, functions). */
export const SEED_ADDRESSES_MAX = 256;
/** How long one DNS lookup or seed function may take before that reading counts as failed. */
export const SEED_RESOLVE_TIMEOUT_MS = 5000;
/** Seed addresses already handed to the core that the runtime remembers (so it does not resend them). */
export const SEEDS_SENT_MAX = 4096;

/** handoffTimeoutMs by default: how long a moving child may take to give its state (the core's HANDOFF_TIMEOUT_DEFAULT_MS). */
export const HANDOFF_TIMEOUT_DEFAULT_MS = 5000;
/** maxStateBytes by default, and its cap (the core's STATE_DEFAULT_BYTES and STATE_BYTES_MAX). */
export const STATE_DEFAULT_BYTES = 16 << 20;
export const STATE_BYTES_MAX = 64 << 20;
