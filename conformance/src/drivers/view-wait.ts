// The member's side of a cluster bench step's end (conformance/bench/cluster-steps.mjs): the same
// local condition the harness's `pollView` looks at, watched by the member on its own events, so
// the step's end is the moment the condition began to hold, not the moment a poll to a busy
// member got its answer. A look costs the core a walk of its local children (about 0.4 ms at
// 3,300, tens of ms at 33,000), so the member looks only when the events say it may hold: a child
// enters `running` only with a child_started event (core supervision.ts), so running cannot
// reach the share before the running count at the wait's start plus the child_started events
// since do; and once it held, any local child event means it broke.

/** The part of a member's row the bench's membership check compares (cluster-steps.mjs agreedOf). */
export interface ViewMemberRow { name: string; status: string; weight: number; kinds?: readonly string[] }

/** pollView's local condition: this member runs exactly its share, and none is starting or stopping. */
export function viewHolds(running: number, transitioning: number, share: number): boolean {
  return running === share && transitioning === 0;
}

/** The up members (names, weights, kinds) in one canonical string, to see whether they change. */
export function upMembersKey(rows: readonly ViewMemberRow[]): string {
  const up = rows.filter((r) => r.status === 'up').map((r) => ({ name: r.name, weight: r.weight, kinds: [...(r.kinds ?? [])].sort() }));
  up.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return JSON.stringify(up);
}

/**
 * One wait for `share`: `since` is the wall-clock time (ms) of the first look at which the
 * condition held; after that, `broken` records whether any later look saw it fail or the up
 * members change. A member's running ids cannot change while the condition holds without a
 * break: a child ends or begins only through starting or stopping, which fails the condition.
 */
export class ViewWait {
  since: number | undefined;
  broken = false;
  private key = '';
  /** The most children that can be running now: those at the start plus the starts since. */
  private runningMax: number;

  constructor(readonly share: number, runningAtStart: number) { this.runningMax = runningAtStart; }

  /** A child_started event (a local child entered running); before `since`, not a break. */
  started(): void { this.runningMax++; this.changed(); }
  /** A local child began or ended a transition (started, stopping, exited, restarting, ...). */
  changed(): void { if (this.since !== undefined) this.broken = true; }
  /** Whether a look at the counts could see it begin to hold. */
  get mayHold(): boolean { return this.since === undefined && this.runningMax >= this.share; }

  /** After it held: the up members looked at again (a member event); a change is a break. */
  membersLook(upKey: () => string): void {
    if (this.since !== undefined && !this.broken && upKey() !== this.key) this.broken = true;
  }

  /** One look after a step; `upKey` is read only when needed. True when this look saw it begin to hold. */
  observe(running: number, transitioning: number, upKey: () => string, now: number): boolean {
    const holds = viewHolds(running, transitioning, this.share);
    if (this.since === undefined) {
      if (!holds) return false;
      this.since = now;
      this.key = upKey();
      return true;
    }
    if (!this.broken && (!holds || upKey() !== this.key)) this.broken = true;
    return false;
  }

  /** It began to hold and held at every look since. */
  get held(): boolean { return this.since !== undefined && !this.broken; }
}
