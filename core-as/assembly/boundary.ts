// Record types that cross the Wasm boundary in batches (host → core events, core → host effects).
// Every record is: u8 type, u32 length, payload. The binding in core-as/src/binding.ts is the
// only other code that knows this layout.

// Events (host → core).
export const EV_INIT: u8 = 1;
export const EV_LINK_OPENED: u8 = 2;
export const EV_FRAME: u8 = 3;
export const EV_LINK_CLOSED: u8 = 4;
export const EV_DIAL_FAILED: u8 = 5;
export const EV_TICK: u8 = 6;
export const EV_START_CHILD: u8 = 7;
export const EV_TERMINATE_CHILD: u8 = 8;
export const EV_LEAVE: u8 = 9;
export const EV_CHILD_STARTED: u8 = 10;
export const EV_CHILD_EXITED: u8 = 11;
export const EV_CHILD_START_FAILED: u8 = 12;
export const EV_PLANT_BUGS: u8 = 13;

// Effects (core → host).
export const FX_SEND: u8 = 1;
export const FX_DIAL: u8 = 2;
export const FX_CLOSE: u8 = 3;
export const FX_RUN: u8 = 4;
export const FX_STOP: u8 = 5;
export const FX_WAKE: u8 = 6;
export const FX_REPLY: u8 = 7;
export const FX_EVENT: u8 = 8;

// Observer events (FX_EVENT payload: u8 kind, then fields as documented in binding.ts).
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

// Child exit reasons (EV_CHILD_EXITED).
export const EXIT_NORMAL: u8 = 0;
export const EXIT_CRASH: u8 = 1;
export const EXIT_SHUTDOWN: u8 = 2;
export const EXIT_KILLED: u8 = 3;

// Reply codes.
export const R_OK: u8 = 0;
export const R_INVALID_SPEC: u8 = 1;
export const R_NOT_FOUND: u8 = 2;
export const R_ALREADY_STARTED: u8 = 3;
export const R_NOT_RUNNING: u8 = 4;   // node not initialised, or leaving/left
export const R_CHILD_FAILED: u8 = 5;

// Wait modes for startChild / terminateChild.
export const WAIT_ACK: u8 = 0;
export const WAIT_DONE: u8 = 1; // 'running' for start, 'stopped' for terminate

// Planted bugs (simulator only; all off unless EV_PLANT_BUGS sets them).
export const BUG_START_WITHOUT_RELEASE: u32 = 1; // start even if another live member claims the child
export const BUG_SKIP_ANTI_ENTROPY: u32 = 2;     // no sync exchange when a link opens or periodically
export const BUG_IGNORE_INCARNATION: u32 = 4;    // a restarted node is taken for its old incarnation
export const BUG_TERMINATE_LOSES: u32 = 8;       // a late-arriving older add resurrects a removed child
