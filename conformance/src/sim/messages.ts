// Messages in the simulator: the ledger of every send and call, and the checks per message
// (docs/SIMULATOR.md): delivered at most once, in per-sender order, and exactly once unless the
// caller got an error; an error that says "not delivered" means it was not, and one that says
// "delivered, and its instance ended unanswered" (child_stopped) means exactly that.
import type { MessageOutcome } from '@trellis/core';

/** One send or call, from its request to its outcome. */
export interface SimMessage {
  req: number;
  /** The sender, as `name#incarnation`. */
  from: string;
  id: string;
  call: boolean;
  at: number;
  /** Where it was delivered (`node#incarnation`), in order. */
  deliveries: string[];
  /** The core's outcome, if it reported one. */
  status?: MessageOutcome;
  replied: boolean;
  /** The instance it was delivered to (its epoch), for a call's CALL_STOPPED. */
  epoch?: number;
  /** The call failed ChildStoppedError (delivered, its instance ended unanswered), with this reason. */
  stopped?: string;
}

export class MessageLedger {
  readonly all = new Map<number, SimMessage>();
  /** The last request delivered per sender and child: requests grow in send order. */
  private lastDelivered = new Map<string, number>();
  readonly problems: string[] = [];

  sent(m: SimMessage): void { this.all.set(m.req, m); }

  delivered(req: number, at: string, childRunning: boolean, epoch: number): void {
    const m = this.all.get(req);
    if (!m) { this.problems.push(`${at} took message #${req}, which nobody sent`); return; }
    m.deliveries.push(at);
    m.epoch = epoch;
    if (!childRunning) this.problems.push(`message #${req} to ${m.id} from ${m.from} was delivered on ${at}, where no instance of it runs`);
    if (m.deliveries.length > 1) this.problems.push(`message #${req} to ${m.id} from ${m.from} was delivered twice: ${m.deliveries.join(', ')}`);
    const key = `${m.from}>${m.id}`;
    const last = this.lastDelivered.get(key) ?? 0;
    if (req < last) this.problems.push(`message #${req} to ${m.id} from ${m.from} was delivered after #${last}, which was sent later`);
    else this.lastDelivered.set(key, req);
  }

  status(req: number, code: MessageOutcome): void {
    const m = this.all.get(req);
    if (!m) return;
    if (m.status !== undefined) this.problems.push(`message #${req} to ${m.id} got a second outcome (${code} after ${m.status})`);
    if ((m.replied || m.stopped !== undefined) && code !== 'delivered') this.problems.push(`call #${req} to ${m.id} was answered, then failed (${code})`);
    m.status = code;
  }

  replied(req: number): void {
    const m = this.all.get(req);
    if (!m) return;
    if (m.replied || m.stopped !== undefined) this.problems.push(`call #${req} to ${m.id} was answered twice${m.stopped !== undefined ? ` (after child_stopped ${m.stopped})` : ''}`);
    if (m.status !== undefined && m.status !== 'delivered') this.problems.push(`call #${req} to ${m.id} was answered after it failed (${m.status})`);
    m.replied = true;
  }

  /**
   * A call failed ChildStoppedError: `ended(at, epoch)` says whether the instance it was delivered
   * to had really ended by now (the error claims it was delivered and went unanswered).
   */
  stoppedAnswer(req: number, reason: string, ended: (at: string, epoch: number) => boolean): void {
    const m = this.all.get(req);
    if (!m) return;
    const what = `call #${req} to ${m.id} from ${m.from}`;
    if (!m.call) this.problems.push(`send #${req} to ${m.id} got a call's child_stopped (${reason})`);
    if (m.replied || m.stopped !== undefined) this.problems.push(`${what} got child_stopped (${reason}) after an answer`);
    if (m.status !== undefined && m.status !== 'delivered') this.problems.push(`${what} got child_stopped (${reason}) after it failed (${m.status})`);
    if (m.deliveries.length !== 1) this.problems.push(`${what} got child_stopped (${reason}) though it was delivered ${m.deliveries.length} times`);
    else if (!ended(m.deliveries[0], m.epoch!)) this.problems.push(`${what} got child_stopped (${reason}), but its instance ${m.epoch} on ${m.deliveries[0]} still runs`);
    m.stopped = reason;
  }

  /**
   * At quiescence. `alive(from)` says whether the sender incarnation still runs (a crashed or
   * departed sender's outcomes are lost with it); `faultFree`: no fault ever happened, so no
   * reply can have been lost on the way.
   */
  check(alive: (from: string) => boolean, faultFree: boolean): string[] {
    const out = [...this.problems];
    for (const m of this.all.values()) {
      const n = m.deliveries.length;
      const what = `${m.call ? 'call' : 'send'} #${m.req} to ${m.id} from ${m.from}`;
      const ok = m.replied || m.stopped !== undefined || m.status === 'delivered';
      if (ok && n !== 1) out.push(`${what} succeeded but was delivered ${n} times`);
      if (m.status !== undefined && m.status !== 'delivered' && m.status !== 'delivery_unknown' && n !== 0) out.push(`${what} failed (${m.status}) though it was delivered`);
      if (!alive(m.from)) continue;
      if (m.status === undefined) out.push(`${what} (at ${m.at} ms) never got an outcome${n ? ' (it was delivered)' : ''}`);
      // A call delivered whose answer was lost ends in the caller's own timeout (the host's): only
      // after a fault. One whose instance ended before it answered fails ChildStoppedError at once.
      else if (m.call && m.status === 'delivered' && !m.replied && m.stopped === undefined && faultFree) out.push(`${what} was delivered and never answered, without any fault`);
    }
    return out;
  }
}
