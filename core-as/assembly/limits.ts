// Every limit of the core in one place, named with the unit last. Relations between limits are
// asserted at compile time (`if (broken) ERROR(...)` fails the build) next to the sentence that
// states them.

// ---- frames ------------------------------------------------------------------------------
/** The link frame header (codec.ts). */
export const FRAME_HEADER_BYTES: i32 = 8;
/** Logical messages above this are sent as FRAGMENT frames carrying this much each. */
export const FRAGMENT_BYTES: i32 = 64 * 1024;
/** A FRAGMENT frame's own overhead beyond its slice: header and the `more` flag. */
export const FRAGMENT_OVERHEAD_BYTES: i32 = 64;
/** The smallest frame limit a node accepts: one fragment must always fit in one frame. */
export const FRAME_FLOOR_BYTES: i32 = FRAGMENT_BYTES + FRAGMENT_OVERHEAD_BYTES;
if (FRAGMENT_OVERHEAD_BYTES < FRAME_HEADER_BYTES + 1) ERROR('a fragment frame must fit its header and flag within the overhead');
/**
 * DELTA, SYNC_LIVE, SYNC_REQ, ACK and CLAIMS frames are cut at this many bytes (header included),
 * each carrying a complete subset of its entries that the receiver applies on its own: a sync of
 * 100,000 children is then hundreds of short steps with heartbeats between them, not one frame of
 * megabytes handled in one step (or fragments reassembled into one). One item larger than this
 * (a spec with big args) goes alone in its frame.
 */
export const SYNC_FRAME_BYTES_MAX: i32 = 32768; // 32 KiB
if (SYNC_FRAME_BYTES_MAX > FRAGMENT_BYTES) ERROR('a sync frame must never need fragments');
/** A SYNC_LIVE range is joined counter by counter if it spans at most this many counters per item it carries. */
export const RANGE_PROBES_PER_ITEM: i32 = 8;
/** The frame limit when the host gives none. */
export const FRAME_DEFAULT_BYTES: i32 = 1 << 20;
if (FRAME_DEFAULT_BYTES < FRAME_FLOOR_BYTES) ERROR('the default frame limit must not be below the floor');
/** A logical message reassembled from fragments may be at most this large. */
export const MESSAGE_BYTES_MAX: i32 = 256 << 20;
if (MESSAGE_BYTES_MAX < FRAME_DEFAULT_BYTES) ERROR('a reassembled message may be larger than any one frame, never smaller');
/**
 * A reassembly buffer is sized at once from the message's declared length up to this much (a
 * member's first fragment can make us allocate no more); a larger message grows as it arrives.
 */
export const REASSEMBLY_PRESIZE_BYTES_MAX: i32 = 16 << 20;
if (REASSEMBLY_PRESIZE_BYTES_MAX > MESSAGE_BYTES_MAX) ERROR('presizing must not exceed what reassembly accepts');

// ---- fields (bytes of UTF-8, or counts) ----------------------------------------------------
export const NAME_BYTES_MAX: i32 = 256;
export const SCOPE_BYTES_MAX: i32 = 256;
export const ADDRESS_BYTES_MAX: i32 = 2048;
export const KIND_BYTES_MAX: i32 = 256;
export const ID_BYTES_MAX: i32 = 256;
/** An id as the API hands it over, before validation (a wrong id is answered, not truncated). */
export const API_ID_BYTES_MAX: i32 = ID_BYTES_MAX * 4;
export const ARGS_BYTES_MAX: i32 = 65536;
/** Groups one child spec may name (spec field `groups`, groups.ts). */
export const GROUPS_PER_CHILD_MAX: i32 = 16;
/** One group name, in UTF-8 bytes. */
export const GROUP_NAME_BYTES_MAX: i32 = 128;
export const KINDS_MAX: i32 = 1024;
export const MEMBERS_MAX: i32 = 4096;
export const ERROR_TEXT_BYTES_MAX: i32 = 4096;
/** The cluster secret as the host hands it over. */
export const SECRET_BYTES_MAX: i32 = 4096;
export const NONCE_BYTES: i32 = 16;
/** A HELLO nonce is read with this bound and must then be exactly NONCE_BYTES. */
export const PEER_NONCE_BYTES_MAX: i32 = 64;
if (PEER_NONCE_BYTES_MAX < NONCE_BYTES) ERROR('the HELLO nonce bound must admit a nonce');
/** Payload bytes of a frame before the link is authenticated (HELLO and AUTH are far smaller). */
export const HANDSHAKE_BYTES_MAX: i32 = 8192; // 8 KiB
/** Inbound links in their handshake at once when the host gives no maxPendingLinks. */
export const PENDING_LINKS_DEFAULT: i32 = 64;
/** A credential key as the host hands it over. */
export const CREDENTIAL_KEY_BYTES_MAX: i32 = 64;
/** Items in one wire list of dots, entries, claims or acks. */
export const WIRE_ITEMS_MAX: i32 = 1 << 24;
/** Replicas in one wire replica table or context. */
export const WIRE_REPLICAS_MAX: i32 = 1 << 20;

// ---- dots (crdt.ts): a dot packs into one u64 -------------------------------------------
export const DOT_COUNTER_BITS: i32 = 40;
export const DOT_REPLICA_BITS: i32 = 24;
if (DOT_COUNTER_BITS + DOT_REPLICA_BITS != 64) ERROR('a dot is exactly one u64');
export const DOT_COUNTER_MAX: u64 = (<u64>1 << DOT_COUNTER_BITS) - 1;
export const DOT_REPLICAS_MAX: i32 = 1 << DOT_REPLICA_BITS;
if (WIRE_REPLICAS_MAX > DOT_REPLICAS_MAX) ERROR('one replica table must fit the dot replica field');

// ---- time and retries -------------------------------------------------------------------
/** Dial backoff: doubles from the base to the cap, with 50%..150% jitter. */
export const DIAL_BACKOFF_BASE_MS: i64 = 100;
export const DIAL_BACKOFF_MAX_MS: i64 = 2000;
if (DIAL_BACKOFF_BASE_MS > DIAL_BACKOFF_MAX_MS) ERROR('the dial backoff base must not exceed its cap');
/** Restart backoff of a local child (doubles per recent restart, capped). */
export const RESTART_BACKOFF_BASE_MS: i64 = 100;
export const RESTART_BACKOFF_MAX_MS: i64 = 5000;
if (RESTART_BACKOFF_BASE_MS > RESTART_BACKOFF_MAX_MS) ERROR('the restart backoff base must not exceed its cap');
export const HEARTBEAT_DEFAULT_MS: i64 = 250;
export const FAILURE_TIMEOUT_DEFAULT_MS: i64 = 1000;
export const SYNC_INTERVAL_DEFAULT_MS: i64 = 1000;
if (FAILURE_TIMEOUT_DEFAULT_MS < HEARTBEAT_DEFAULT_MS) ERROR('a member must miss a heartbeat before it is judged down');
/** A peer's HELLO may ask for heartbeats this often at most (heartbeats.ts): a peer cannot make us flood its link. */
export const HEARTBEAT_INTERVAL_MIN_MS: i64 = 10;
/** A heartbeat due within 1/this of its interval goes with those due now (one wake for many members). */
export const HEARTBEAT_EARLY_DIVISOR: i64 = 4;
/** The longest silence bound a host may give a watched link (watched-links.ts: its host reports the peer's end); a longer one is taken as this. */
export const WATCHED_LINK_SILENCE_MAX_MS: i64 = 600_000;
/** The heartbeats a watched link's HELLO asks for within its silence bound (the core's ratio of failure timeout to heartbeat). */
export const WATCHED_LINK_HEARTBEATS_PER_SILENCE: i64 = 4;
/** Sync intervals a digest difference may last before anti-entropy runs regardless. */
export const DIGEST_PATIENCE: i32 = 3;

// ---- work per step ------------------------------------------------------------------------
/**
 * Local children started or stopped per step at most. A burst (100,000 starts, a join that
 * moves a third of them) is spread over many short steps with the host's I/O in between, so
 * heartbeats keep flowing and no peer mistakes a busy node for a dead one.
 */
export const RECONCILE_BUDGET: i32 = 1000;
/** Reconcile calls per step at most: twice the dirty ids at the start, plus slack. */
export const RECONCILE_GUARD_SLACK: i32 = 16;
/** Acknowledgements asked again per sync interval at most. */
export const REASK_ACKS_MAX: i32 = 4096;

// ---- scratch buffers (they grow when needed; these are the starting sizes) -------------
export const FRAME_SCRATCH_BYTES: i32 = 1024;
export const HMAC_SCRATCH_BYTES: i32 = 256;
export const IO_BUFFER_BYTES: i32 = 1 << 16;
export const ENTRY_HASH_SCRATCH_BYTES: i32 = 512;

// ---- probes (testing builds) ----------------------------------------------------------------
/** Ids in one placeBatch call. */
export const PLACE_BATCH_IDS_MAX: i32 = 1 << 26;

// ---- failure detection and the quorum lease (lease.ts, docs/ARCHITECTURE-faults-notes.md) ----
/**
 * A node looks paused when the time since its loop last turned, or since any member's frame, is over
 * failureTimeoutMs / PAUSE_SUSPECT_DIVISOR: a pause of the sender and one of the receiver add up
 * in the silence the receiver sees, so half of the timeout each would already be too much.
 */
export const PAUSE_SUSPECT_DIVISOR: i64 = 4;
/**
 * A node that looks paused judges silence no sooner than this after the step that found it due:
 * the frames that queued during the pause are read after the timer that ends it (Node runs
 * timers before I/O).
 */
export const PAUSE_CATCH_UP_MS: i64 = 50;
/**
 * Catch-ups in a row at most: a second one only when the loop did not turn within the first and
 * the step that ends it follows a pause (the step that began it ran inside the pause, e.g. an API
 * call in the same busy stretch, and the pause went on past its end, so nothing queued was read).
 * Bounded, so a loop that is always late still judges.
 */
export const PAUSE_CATCH_UPS_MAX: i64 = 2;
/** A host kills a child that has not stopped shutdownMs after its stop; the kill takes at most this. */
export const STOP_KILL_GRACE_MS: i64 = 500;
/**
 * Frames in flight and late timers: a member's last frame reaches us at most this much (beyond
 * one heartbeat interval) later than ours reach it, and a timer fires at most this late.
 */
export const LEASE_DELIVERY_MARGIN_MS: i64 = 250;
/** Two members' clocks run at rates at most this many per mille apart. */
export const LEASE_CLOCK_RATE_PERMILLE: i64 = 10;
if (PAUSE_CATCH_UP_MS * PAUSE_CATCH_UPS_MAX > LEASE_DELIVERY_MARGIN_MS) ERROR('the lease margin must cover the catch-ups after a pause');
/**
 * Names in a majority-mode roster (roster.ts), members that left gracefully included until a new
 * name needs their room; past it a joiner is not admitted (it runs nothing, the others go on).
 */
export const ROSTER_NAMES_MAX: i32 = 1024;
if (ROSTER_NAMES_MAX > MEMBERS_MAX) ERROR('a roster names no more nodes than a cluster may have');

// ---- messages to children (messages.ts) ----------------------------------------------------------
/** Messages one node holds for one child at most (option `messageBufferMax`). */
export const MESSAGE_BUFFER_DEFAULT: i32 = 10000;
/** How long a message waits for a running instance at most (option `messageBufferMs`). */
export const MESSAGE_BUFFER_DEFAULT_MS: i64 = 5000;
/** A message's payload (UTF-8 JSON) at most, by default (option `maxMessageBytes`). */
export const MESSAGE_PAYLOAD_DEFAULT_BYTES: i32 = 1 << 20;
/** The largest `maxMessageBytes` a node accepts: a MESSAGE frame with one such payload still reassembles. */
export const MESSAGE_PAYLOAD_BYTES_MAX: i32 = 64 << 20;
/** One MESSAGE frame carries messages up to about this many bytes (one larger message goes alone, in fragments). */
export const MESSAGE_BATCH_BYTES: i32 = FRAGMENT_BYTES - 1024;
/** A route told to wait asks its target again this often (a READY usually comes first). */
export const MESSAGE_RETRY_MS: i64 = 250;
/** Ids for which a node remembers who waits for a READY; past it senders rely on MESSAGE_RETRY_MS. */
export const MESSAGE_WAITERS_MAX: i32 = 65536;
/**
 * A child's delivery marks stay at least this long (and at least MESSAGE_MARKS_KEPT_TIMEOUTS
 * failure timeouts) after its local instance is gone: longer than a sender can take to resend over
 * a new link what it sent over a broken one (it relinks, or declares us down, within a failure
 * timeout of the break).
 */
export const MESSAGE_MARKS_KEPT_MS: i64 = 30000;
export const MESSAGE_MARKS_KEPT_TIMEOUTS: i64 = 4;
/**
 * Calls that failed (delivery unknown, timeout) whose late REPLY is dropped, at most: a target
 * declared lost may come back on a new link and still answer; the oldest are forgotten first.
 */
export const MESSAGE_FAILED_CALLS_MAX: i32 = 4096;
/**
 * Calls delivered here and not answered yet that a node keeps track of, at most (call-stops.ts):
 * past it, a call whose instance ends unanswered fails with its caller's timeout instead.
 */
export const INBOUND_CALLS_MAX: i32 = 65536;
/** How often marks of children gone from this node are looked at. */
export const MESSAGE_MARKS_SWEEP_MS: i64 = 1000;
if (MESSAGE_PAYLOAD_BYTES_MAX + FRAGMENT_BYTES > MESSAGE_BYTES_MAX) ERROR('a MESSAGE frame with the largest payload must reassemble');
// ---- cordon, drain, weights (cordon.ts) ---------------------------------------------------
/** Names in the cordon table (an uncordon stays as an entry, so an older cordon cannot return). */
export const CORDONS_MAX: i32 = MEMBERS_MAX;
/** Children of a draining member moving at once, at most (the API's maxParallel is clamped to it). */
export const DRAIN_PARALLEL_MAX: u32 = 65536;
// ---- state handoff and checkpoints (handoff.ts) ------------------------------------------------
/** A child's state (handed over or checkpointed) is at most this large, whatever the option says. */
export const STATE_BYTES_MAX: i32 = 64 << 20;
if (STATE_BYTES_MAX + ID_BYTES_MAX + 64 > MESSAGE_BYTES_MAX) ERROR('a state message must fit one reassembled message');
/** maxStateBytes when the host gives none. */
export const STATE_DEFAULT_BYTES: i32 = 16 << 20;
if (STATE_DEFAULT_BYTES > STATE_BYTES_MAX) ERROR('the default state limit must not exceed the cap');
/** handoffTimeoutMs when the host gives none: how long a moving child may take to give its state. */
export const HANDOFF_TIMEOUT_DEFAULT_MS: i64 = 5000;

// ---- leave handover (leave-handover.ts) ------------------------------------------------------
/** A dot this node ACKed counts as ACKed lately for at least this many sync intervals, and at most twice as many. */
export const ACKED_LATELY_SYNC_INTERVALS: i64 = 2;
/**
 * How long a leave waits at most, unless the host names its own wait, for every member that stays
 * to ACK the entries this node ACKed lately, before its BYE.
 */
export const LEAVE_HANDOVER_WAIT_DEFAULT_MS: i64 = 3000;
if (LEAVE_HANDOVER_WAIT_DEFAULT_MS < 2 * SYNC_INTERVAL_DEFAULT_MS) ERROR('a handover DELTA lost once must be sent again within the default wait');
/** The longest wait a host may ask for (a longer one is clamped to it). */
export const LEAVE_HANDOVER_WAIT_MAX_MS: i64 = 60000;
if (LEAVE_HANDOVER_WAIT_DEFAULT_MS > LEAVE_HANDOVER_WAIT_MAX_MS) ERROR('the default handover wait must not exceed its cap');

// ---- terminates (terminates.ts) -------------------------------------------------------------
/**
 * Times one terminate extends its removal to adds a member reports it did not cover. Two rounds
 * cover every start acknowledged before the terminate was asked (those are reported in the
 * first); later rounds only cover starts concurrent with it, so a stream of them cannot hold
 * the terminate's acknowledgement back for ever.
 */
export const TERMINATE_EXTENSIONS_MAX: i32 = 4;
