// The member's side of a cluster bench step's end (conformance/bench/cluster-steps.mjs): the same
// local condition the harness's `pollView` looks at, watched by the member on its own events, so
// the step's end is the moment the condition began to hold, not the moment a poll to a busy
// member got its answer. A look costs the core a walk of its local children (about 0.4 ms at
// 3,300, tens of ms at 33,000), so the member looks only when its events say it may hold: it
// keeps the ids it believes running (those running at the wait's start, plus child_started, less
// any other event of a local child: a child enters `running` only with child_started, core
// supervision.ts, and leaves it only with one of the others) and looks when there are `share` of
// them. Once it held, any local child event means it broke.

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
  /** The ids the events say are running. */
  private readonly running: Set<string>;

  constructor(readonly share: number, runningAtStart: Iterable<string>) { this.running = new Set(runningAtStart); }

  /** A child_started event (a local child entered running). */
  started(id: string): void { this.running.add(id); this.changed(); }
  /** Any other event of a local child (stopping, exited, restarting, failed, unresponsive). */
  left(id: string): void { this.running.delete(id); this.changed(); }
  /** Whether a look at the counts could see it begin to hold. */
  get mayHold(): boolean { return this.since === undefined && this.running.size === this.share; }

  private changed(): void { if (this.since !== undefined) this.broken = true; }

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
