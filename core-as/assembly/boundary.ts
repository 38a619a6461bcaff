// Every constant that crosses the Wasm boundary, and nothing else. Records travel in batches
// (host → core events, core → host effects); every record is u8 type, u32 length, payload.
//
// The TypeScript side is generated from this file by parsing lines of exactly the shape
//   export const NAME: <int type> = <integer>; // optional comment
// so keep one constant per line, with a literal value.

// Events (host → core).
export const EV_INIT: u8 = 1;
export const EV_LINK_OPENED: u8 = 2;
export const EV_LINK_OPENED_WATCHED: u8 = 70; // EV_LINK_OPENED's layout, then u32 silenceMs: the host reports the peer's end itself (watched-links.ts)
export const EV_FRAME: u8 = 3;
export const EV_LINK_CLOSED: u8 = 4;
export const EV_DIAL_FAILED: u8 = 5;
export const EV_TICK: u8 = 6;
export const EV_START_CHILD: u8 = 7;
export const EV_TERMINATE_CHILD: u8 = 8;
export const EV_LEAVE: u8 = 9; // u32 req, u32 waitMs: the BYE's wait for members that stay to hold what this node ACKed lately (leave-handover.ts)
export const EV_LEAVE_WAIT_DEFAULT: u32 = 4294967295; // EV_LEAVE's waitMs when the host names none: LEAVE_HANDOVER_WAIT_DEFAULT_MS
export const EV_CHILD_STARTED: u8 = 10;
export const EV_CHILD_EXITED: u8 = 11;
export const EV_CHILD_START_FAILED: u8 = 12;
export const EV_PLANT_BUGS: u8 = 13; // testing builds only; a release core counts it as a bad record
export const EV_ADD_SEEDS: u8 = 14; // u32 count, then that many address strings (seeds found after init)
export const EV_CHILD_UNRESPONSIVE: u8 = 15; // str id, u32 epoch: it did not settle shutdownMs after its stop
export const EV_CORDON: u8 = 30; // u32 req, str member, u8 PM_* mode, u32 maxParallel, u32 deadlineMs (cordon.ts)
export const EV_SET_WEIGHT: u8 = 31; // u32 req, f64 weight: this node's share of placements from now on
// bytes key, u64 expiresAtMs, u64 firstEpoch, list<bytes> tabLinkKeys: our credential, renewed (renewal.ts)
export const EV_RENEW_CREDENTIAL: u8 = 50;
export const EV_MESSAGE_SEND: u8 = 20;   // u32 req, u8 call, str id, bytes payload: sup.send / sup.call (messages.ts)
export const EV_MESSAGE_REPLY: u8 = 21;  // str caller, u64 callerInc, u32 req, bytes payload: a child answered a call
export const EV_MESSAGE_CONFIG: u8 = 22; // u32 bufferMax, u32 bufferMs, u32 maxMessageBytes (after init)
// State handoff and checkpoints (handoff.ts).
export const EV_STATE_CONFIG: u8 = 40;  // u32 handoffTimeoutMs, u32 maxStateBytes (once, right after init)
export const EV_CHILD_STATE: u8 = 41;   // str id, u32 epoch, u8 STATE_*, u32 version, bytes state, str error name, str error message
export const EV_CHECKPOINT: u8 = 42;    // str id, u32 epoch, u32 version, bytes state
// u32 count, then count × (u32 link, f64 atMs): frames arrived on these links at these times and
// wait in the host's queue; a member is heard when its bytes arrive, not when its backlog is handled (heard.ts).
export const EV_HEARD: u8 = 100;
// str peer, u64 epoch, bytes key (empty: the host cannot get it): the answer to FX_PAIR_KEY (pair-key.ts)
export const EV_PAIR_KEY: u8 = 101;
// empty, once after init: this host has no pair-key source; the core asks a secret member over a member link (pair-key-relay.ts)
export const EV_PAIR_KEY_RELAY: u8 = 102;

// What a child answered to FX_DEHYDRATE (EV_CHILD_STATE).
export const STATE_GIVEN: u8 = 0;  // its state follows
export const STATE_NONE: u8 = 1;   // the kind registered no dehydrate hook
export const STATE_FAILED: u8 = 2; // the hook threw, or its value does not encode

// Why a dial failed (EV_DIAL_FAILED: str address, u8 one of these).
export const DIAL_FAILED_OTHER: u8 = 0;   // a timeout, a bad address, an HTTP error: says nothing of the peer's life
export const DIAL_FAILED_REFUSED: u8 = 1; // connection refused or reset: no process listens there

// Effects (core → host).
export const FX_SEND: u8 = 1;
export const FX_DIAL: u8 = 2;
export const FX_CLOSE: u8 = 3;
export const FX_RUN: u8 = 4;
export const FX_STOP: u8 = 5;
export const FX_WAKE: u8 = 6;
export const FX_REPLY: u8 = 7;
export const FX_EVENT: u8 = 8;
export const FX_INVARIANT: u8 = 9; // testing builds only: str message (invariant name: detail)
export const FX_DELIVER: u8 = 20;        // str id, u32 epoch, str caller, u64 callerInc, u32 req (0: no reply wanted), bytes payload
export const FX_CALL_REPLY: u8 = 21;     // u32 req, bytes payload: the answer to one of this node's calls
export const FX_MESSAGE_STATUS: u8 = 22; // u32 req, u8 R_* code: a message will never be delivered (R_OK comes in FX_MESSAGES_DELIVERED)
export const FX_CALL_STOPPED: u8 = 71;     // u32 req, str reason: one of this node's calls was delivered and its instance ended unanswered (call-stops.ts)
export const FX_MESSAGES_DELIVERED: u8 = 80; // u32 count, count × u32 req: this step's messages delivered (R_OK), in settle order
export const FX_DEHYDRATE: u8 = 40; // str id, u32 epoch: ask the child for its state (its stop follows the answer)
export const FX_REHYDRATE: u8 = 41; // str id, u32 epoch, u32 version, str source, str from, bytes: the state of the FX_RUN that follows
export const FX_PAIR_KEY: u8 = 101; // str peer, u64 epoch: fetch the pair key of this node and peer (answer EV_PAIR_KEY)

// Observer events (FX_EVENT payload: u8 kind, then four strings and two numbers).
export const OE_MEMBER_UP: u8 = 1;        // name, incarnation, address
export const OE_MEMBER_DOWN: u8 = 2;      // name, incarnation, reason
export const OE_CHILD_STARTED: u8 = 3;    // id, epoch
export const OE_CHILD_EXITED: u8 = 4;     // id, epoch, reason, error name, error message
export const OE_CHILD_RESTARTING: u8 = 5; // id, restarts, delayMs
export const OE_CHILD_FAILED: u8 = 6;     // id, restarts
export const OE_CHILD_STOPPING: u8 = 7;   // id, epoch, why
export const OE_CHILD_MOVED: u8 = 8;      // id, from, to
export const OE_LINK_REJECTED: u8 = 9;    // link, reason
export const OE_LEFT: u8 = 10;            // this node finished leaving
export const OE_CHILD_UNRESPONSIVE: u8 = 11; // id, epoch: stopped, not settled, still claimed
export const OE_MEMBER_STATE: u8 = 30;    // name, state (PM_* name), writer; weight, maxParallel: the cordon table changed for a member
export const OE_WEIGHT_CHANGED: u8 = 31;  // name; weight: a member's placement weight changed
export const OE_CREDENTIAL_RENEWED: u8 = 50; // name (ours or a peer's), expiresAtMs
export const OE_HANDOFF: u8 = 40;           // id, to, version, bytes: a moving child's state sent to its new owner
export const OE_HANDOFF_FAILED: u8 = 41;    // id, reason, to, error message, epoch: the new instance starts fresh
export const OE_CHILD_REHYDRATED: u8 = 42;  // id, source ('handoff' | 'checkpoint'), from, version, bytes
export const OE_CHECKPOINT_REFUSED: u8 = 43; // id, reason ('too_large'), bytes
export const OE_LEAVE_UNCONFIRMED: u8 = 103; // members (comma-separated); entries: our BYE went before they ACKed what we ACKed lately (leave-handover.ts)

// Child exit reasons (EV_CHILD_EXITED; any other value from the host is taken as a crash).
export const EXIT_NORMAL: u8 = 0;
export const EXIT_CRASH: u8 = 1;
export const EXIT_SHUTDOWN: u8 = 2;
export const EXIT_KILLED: u8 = 3;
export const EXIT_START_FAILED: u8 = 255; // never sent by the host: EV_CHILD_START_FAILED becomes this exit

// Reply codes.
export const R_OK: u8 = 0;
export const R_INVALID_SPEC: u8 = 1;
export const R_NOT_FOUND: u8 = 2;
export const R_ALREADY_STARTED: u8 = 3;
export const R_NOT_RUNNING: u8 = 4;   // node not initialised, or leaving/left
export const R_CHILD_FAILED: u8 = 5;
// Message outcomes (FX_MESSAGE_STATUS; R_OK and R_NOT_FOUND as above).
export const R_BUFFER_FULL: u8 = 20;      // the child's buffer on this node holds its bound of messages
export const R_MSG_TIMEOUT: u8 = 21;      // waited bufferMs without reaching a running instance
export const R_DELIVERY_UNKNOWN: u8 = 22; // sent to a member lost (or whose link broke) before it answered
export const R_TOO_LARGE: u8 = 23;        // larger than maxMessageBytes
export const R_UNKNOWN_MEMBER: u8 = 30;  // cordon/drain of a name that is neither a member nor in the cordon table
export const R_DEADLINE: u8 = 31;        // a drain (or cordon) did not complete before its deadline
export const R_CANCELLED: u8 = 32;       // a drain was overridden (uncordon, cordon) before it completed
export const R_TABLE_FULL: u8 = 33;      // the cordon table holds CORDONS_MAX names already

// Wait modes for startChild / terminateChild.
export const WAIT_ACK: u8 = 0;
export const WAIT_DONE: u8 = 1; // 'running' for start, 'stopped' for terminate

// Query kinds (the `query(kind)` export; the global view is `queryGlobal(since)`).
export const Q_LOCAL: i32 = 1;
export const Q_GLOBAL_SCRATCH: i32 = 2; // testing builds only: the global view computed from scratch (global-view.ts)
export const Q_MEMBERS: i32 = 3;
export const Q_DIGEST: i32 = 4;
export const Q_COUNTERS: i32 = 5;
export const Q_INFO: i32 = 6;
export const Q_ROSTER: i32 = 60;  // partition 'majority': the roster's names present (roster.ts); empty in the other modes
export const Q_INIT: i32 = 7;    // str: why init was refused ('' when the node runs)

// Placement state of a member (the cordon table, cordon.ts; the members view).
export const PM_ACTIVE: u8 = 0;    // takes new placements
export const PM_CORDONED: u8 = 1;  // no new placements; what it runs stays
export const PM_DRAINING: u8 = 2;  // no new placements; what it runs moves away, maxParallel at a time

// Auth modes (EV_INIT and HELLO): what key a node holds.
export const AUTH_INSECURE: u8 = 0;
export const AUTH_SECRET: u8 = 1;
export const AUTH_CREDENTIAL: u8 = 2;

// Child status codes in the local and global views. Claim statuses (model.ts C_*) and local
// child states (model.ts S_*) use the same numbers, asserted there.
export const ST_PENDING: u8 = 0;
export const ST_STARTING: u8 = 1;
export const ST_RUNNING: u8 = 2;
export const ST_STOPPING: u8 = 3;
export const ST_RESTARTING: u8 = 4;
export const ST_FAILED: u8 = 5;
export const ST_UNRESPONSIVE: u8 = 6; // asked to stop, has not settled: still claimed, started nowhere else

// Why a child of the global view is not running (u8 per row; core-as/src/global-view.ts words them).
export const VR_NONE: u8 = 0;
export const VR_FAILED: u8 = 1;      // restart intensity exceeded
export const VR_NO_MEMBER: u8 = 2;   // no live member advertises the child's kind (or every one is cordoned)
export const VR_WAITING: u8 = 3;     // waiting for its owner (the row's node) to claim it
export const VR_UNDESIRED: u8 = 4;   // still claimed (stopping) but no longer desired

// Member status in the members view.
export const MS_UP: u8 = 0;
export const MS_LEAVING: u8 = 1;
export const MS_DISCONNECTED: u8 = 2;

// Frame / decode error codes: the reasons a frame or link is rejected, and the keys of the
// rejected-frames counters (Q_COUNTERS), named by frameErrorName.
export const FERR_OK: i32 = 0;                 // accepted (fuzzFrame); as a counter: handshake timeouts
export const FERR_HANDSHAKE_TIMEOUT: i32 = 0;  // the counter of links closed in their handshake
export const FERR_TRUNCATED: i32 = 1;          // shorter than the header or the declared length
export const FERR_OVERSIZED: i32 = 2;          // declared or actual length over the limit
export const FERR_BAD_MAGIC: i32 = 3;
export const FERR_BAD_VERSION: i32 = 4;
export const FERR_UNKNOWN_TYPE: i32 = 5;
export const FERR_MALFORMED: i32 = 6;          // payload does not decode, or has trailing bytes, or flags set
export const FERR_UNAUTHENTICATED: i32 = 7;    // anything but HELLO/AUTH before the handshake completed
export const FERR_BAD_AUTH: i32 = 8;           // HMAC did not verify
export const FERR_WRONG_SCOPE: i32 = 9;
export const FERR_SECRET_MISMATCH: i32 = 10;   // one side has a secret, the other none
export const FERR_STALE_INCARNATION: i32 = 11;
export const FERR_SELF: i32 = 12;              // a link to ourselves
export const FERR_UNEXPECTED: i32 = 13;        // a valid message that is not allowed in this state
export const FERR_BAD_MAC: i32 = 14;           // a frame on an authenticated link without its valid tag
export const FERR_NO_SHARED_KEY: i32 = 15;     // two credential members without their pair key (the host could not fetch it), or a RENEW without a common tab link key
export const FERR_CREDENTIAL_EXPIRED: i32 = 16; // a credential HELLO at or after its expiry, or a link at the expiry
export const FERR_KINDS_NOT_ALLOWED: i32 = 17; // a credential member advertises a kind its credential does not allow
export const FERR_PENDING_LIMIT: i32 = 18;     // an inbound link past maxPendingLinks links in their handshake
export const FERR_COUNT: i32 = 19;

/** The reason string of a FERR_* code (link_rejected events, close reasons). */
export function frameErrorName(code: i32): string {
  switch (code) {
    case FERR_HANDSHAKE_TIMEOUT: return 'handshake_timeout';
    case FERR_TRUNCATED: return 'truncated';
    case FERR_OVERSIZED: return 'oversized';
    case FERR_BAD_MAGIC: return 'bad_magic';
    case FERR_BAD_VERSION: return 'bad_version';
    case FERR_UNKNOWN_TYPE: return 'unknown_type';
    case FERR_MALFORMED: return 'malformed';
    case FERR_UNAUTHENTICATED: return 'unauthenticated';
    case FERR_BAD_AUTH: return 'bad_auth';
    case FERR_WRONG_SCOPE: return 'wrong_scope';
    case FERR_SECRET_MISMATCH: return 'secret_mismatch';
    case FERR_STALE_INCARNATION: return 'stale_incarnation';
    case FERR_SELF: return 'self_link';
    case FERR_UNEXPECTED: return 'unexpected';
    case FERR_BAD_MAC: return 'bad_mac';
    case FERR_NO_SHARED_KEY: return 'no_shared_key';
    case FERR_CREDENTIAL_EXPIRED: return 'credential_expired';
    case FERR_KINDS_NOT_ALLOWED: return 'kinds_not_allowed';
    case FERR_PENDING_LIMIT: return 'pending_limit';
  }
  return 'ok';
}

// Planted bugs (testing builds only; all off unless EV_PLANT_BUGS sets them).
export const BUG_START_WITHOUT_RELEASE: u32 = 1; // start even if another live member claims the child
export const BUG_SKIP_ANTI_ENTROPY: u32 = 2;     // no sync exchange when a link opens or periodically
export const BUG_IGNORE_INCARNATION: u32 = 4;    // a restarted node is taken for its old incarnation
export const BUG_TERMINATE_LOSES: u32 = 8;       // a late-arriving older add resurrects a removed child
export const BUG_BREAK_INVARIANT: u32 = 16;      // a member that goes down stays in the member list
export const BUG_TERMINATE_FIRST_COVER: u32 = 32; // a terminate is acknowledged once one member holds its removal, uncovered adds or not
