// Supervision of the children this node runs: start, stop, exits, and the restart decision
// (OTP semantics: permanent always restarts, transient after an abnormal exit, temporary never;
// more than maxRestarts within periodMs fails the child everywhere).
//
// A local child is starting → running → stopping, or restarting (waiting out its backoff)
// between two runs; a stopping child the host reports unresponsive (it did not settle within
// shutdownMs and cannot be forced: an inline function) keeps its claim until its exit is
// reported, so no other member starts a second copy. Its claim always has the status of the
// same number.

import { Node } from './node';
import { Spec, RESTART_PERMANENT, RESTART_TRANSIENT } from './spec';
import {
  LocalChild, S_STARTING, S_RUNNING, S_STOPPING, S_RESTARTING, S_UNRESPONSIVE, C_STARTING, C_RUNNING, C_STOPPING,
  C_RESTARTING, C_UNRESPONSIVE, whyName,
} from './model';
import {
  OE_CHILD_STARTED, OE_CHILD_EXITED, OE_CHILD_RESTARTING, OE_CHILD_FAILED, OE_CHILD_STOPPING, OE_CHILD_UNRESPONSIVE,
  EXIT_NORMAL, EXIT_SHUTDOWN, EXIT_KILLED, EXIT_START_FAILED,
} from './boundary';
import { RESTART_BACKOFF_BASE_MS, RESTART_BACKOFF_MAX_MS } from './limits';
import { fxEvent, fxRun, fxStop } from './effects';
import { dotKey } from './crdt';
import { setClaim, releaseClaim } from './claims';
import { messagesChildRunning } from './messages';
import { rehydrateFor } from './handoff';

// ---- the restart decision, as pure functions ----------------------------------------------

export function exitName(reason: u8): string {
  if (reason == EXIT_START_FAILED) return 'start_failed';
  if (reason == EXIT_NORMAL) return 'normal';
  if (reason == EXIT_SHUTDOWN) return 'shutdown';
  if (reason == EXIT_KILLED) return 'killed';
  return 'crash';
}

/** Whether a child with this restart policy is restarted after an exit with this reason. */
export function restartWanted(policy: u8, reason: u8): bool {
  return policy == RESTART_PERMANENT || (policy == RESTART_TRANSIENT && reason != EXIT_NORMAL);
}

/** The restart times still inside the intensity window, plus this one (a new array). */
export function restartsWithin(recent: Array<i64> | null, now: i64, windowMs: i64): Array<i64> {
  const kept = new Array<i64>();
  if (recent != null) for (let i = 0; i < recent.length; i++) if (now - recent[i] < windowMs) kept.push(recent[i]);
  kept.push(now);
  return kept;
}

/** More than maxRestarts restarts within the window: the child has failed. */
export function intensityExceeded(restartsInWindow: i32, maxRestarts: u32): bool {
  return <u32>restartsInWindow > maxRestarts;
}

/** No wait for the first restart in a window, then the base doubled per restart, capped. */
export function restartDelayMs(restartsInWindow: i32): i64 {
  if (restartsInWindow <= 1) return 0;
  let delay = RESTART_BACKOFF_BASE_MS;
  for (let i = 2; i < restartsInWindow && delay < RESTART_BACKOFF_MAX_MS; i++) delay <<= 1;
  return delay > RESTART_BACKOFF_MAX_MS ? RESTART_BACKOFF_MAX_MS : delay;
}

// ---- local children ----------------------------------------------------------------------

export function startLocal(n: Node, id: string, spec: Spec, lc: LocalChild | null): void {
  let c: LocalChild;
  if (lc == null) { c = new LocalChild(id, spec); n.locals.set(id, c); }
  else { c = lc; c.spec = spec; }
  n.restartingIds.delete(id);
  n.epochCounter++;
  c.epoch = n.epochCounter;
  c.state = S_STARTING;
  n.actions++;
  setClaim(n, id, c.epoch, C_STARTING, c.restarts);
  rehydrateFor(n, id, c.epoch);
  fxRun(id, c.epoch, spec.kind, spec.args);
}

export function stopLocal(n: Node, c: LocalChild, why: u8): void {
  if (c.state == S_STOPPING || c.state == S_UNRESPONSIVE) return;
  if (c.state == S_RESTARTING) { dropLocal(n, c); return; }
  c.state = S_STOPPING;
  c.why = why;
  n.actions++;
  setClaim(n, c.id, c.epoch, C_STOPPING, c.restarts);
  fxEvent(OE_CHILD_STOPPING, c.id, whyName(why), '', '', <f64>c.epoch, 0);
  fxStop(c.id, c.epoch, c.spec.shutdownMs);
}

function dropLocal(n: Node, c: LocalChild): void {
  n.locals.delete(c.id);
  n.restartingIds.delete(c.id);
  releaseClaim(n, c.id);
}

export function childStarted(n: Node, id: string, epoch: u32): void {
  const at = n.locals.find(id);
  if (at < 0) return;
  const c = n.locals.valueAt(at);
  if (c.epoch != epoch) return;
  if (c.state == S_STARTING) {
    c.state = S_RUNNING;
    setClaim(n, id, epoch, C_RUNNING, c.restarts);
  }
  fxEvent(OE_CHILD_STARTED, id, c.spec.kind, '', '', <f64>epoch, <f64>c.restarts);
  messagesChildRunning(n, id);
  // Nothing to decide for a child that just started, unless a request waits for it to run.
  if (n.doneWaits.has(id)) n.dirty.add(id);
}

/** A stopping child did not settle within its shutdownMs: it still runs, so its claim stays. */
export function childUnresponsive(n: Node, id: string, epoch: u32): void {
  const at = n.locals.find(id);
  if (at < 0) return;
  const c = n.locals.valueAt(at);
  if (c.epoch != epoch || c.state != S_STOPPING) return;
  c.state = S_UNRESPONSIVE;
  setClaim(n, id, epoch, C_UNRESPONSIVE, c.restarts);
  fxEvent(OE_CHILD_UNRESPONSIVE, id, '', '', '', <f64>epoch, 0);
}

/** An exit or a failed start (EXIT_START_FAILED) of a local child; decided at the end of the step. */
export function childEnded(n: Node, id: string, epoch: u32, reason: u8, errName: string, errMsg: string): void {
  if (!n.locals.has(id)) return;
  const c = n.locals.get(id);
  if (c.epoch != epoch || c.exitPending) return;
  fxEvent(OE_CHILD_EXITED, id, exitName(reason), errName, errMsg, <f64>epoch, 0);
  if (c.state == S_STOPPING || c.state == S_UNRESPONSIVE) { dropLocal(n, c); return; }
  // The restart decision waits for the end of the step. Hosts feed runner reports first and
  // the batch's tick last, so `now` here is still the time of the previous batch; exits
  // stamped with it would count against the restart intensity up to a whole batch gap early.
  c.exitPending = true;
  c.exitReason = reason;
  n.endedIds.push(id);
}

/** Decides the exits of this step, at the step's time: restart (with backoff), fail or drop. */
export function decideExits(n: Node): void {
  if (n.endedIds.length == 0) return;
  const ids = n.endedIds;
  n.endedIds = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!n.locals.has(id)) continue;
    const c = n.locals.get(id);
    if (!c.exitPending) continue;
    c.exitPending = false;
    decideExit(n, c, c.exitReason);
  }
}

function decideExit(n: Node, c: LocalChild, reason: u8): void {
  const id = c.id;
  const spec = c.spec;
  if (!restartWanted(spec.restart, reason)) {
    // The child is done: it leaves the desired set (OTP drops temporary/transient children that end).
    dropLocal(n, c);
    const e = n.desired.get(id);
    if (e != null && e.spec.sameAs(spec)) n.desired.remove(id, n.pendingDelta);
    n.dirty.add(id);
    return;
  }
  const recent = restartsWithin(c.recent, n.now, <i64>spec.periodMs);
  c.recent = recent;
  if (intensityExceeded(recent.length, spec.maxRestarts)) {
    dropLocal(n, c);
    fxEvent(OE_CHILD_FAILED, id, exitName(reason), '', '', <f64>c.restarts, 0);
    const e = n.desired.get(id);
    if (e != null && !e.spec.failed) {
      // The mark names the entry it marks, so it cannot outlive a terminate of that entry.
      n.desired.add(e.spec.withFailed(true), n.pendingDelta, dotKey(e.rep, e.ctr));
    }
    n.dirty.add(id);
    return;
  }
  c.restarts++;
  c.state = S_RESTARTING;
  const delay = restartDelayMs(recent.length);
  c.nextStartAt = n.now + delay;
  n.restartingIds.add(id);
  setClaim(n, id, c.epoch, C_RESTARTING, c.restarts);
  fxEvent(OE_CHILD_RESTARTING, id, exitName(reason), '', '', <f64>c.restarts, <f64>delay);
  n.dirty.add(id);
}

// ---- the restart timer ---------------------------------------------------------------------

export function restartsDue(n: Node): i64 {
  let at = i64.MAX_VALUE;
  const ids = n.restartingIds.values();
  for (let i = 0; i < ids.length; i++) {
    if (n.locals.has(ids[i])) { const t = n.locals.get(ids[i]).nextStartAt; if (t < at) at = t; }
  }
  return at;
}

/** Children whose backoff has passed are reconciled (and so started again, if still ours). */
export function restartsFire(n: Node): void {
  const ids = n.restartingIds.values();
  for (let i = 0; i < ids.length; i++) {
    if (n.locals.has(ids[i]) && n.locals.get(ids[i]).nextStartAt <= n.now) n.dirty.add(ids[i]);
  }
}
