// The invariants of DESIGN.md, checked against a running World: some after every core step,
// the rest at quiescence. A violation carries the invariant's name and a readable detail.
import type { Effect } from '@trellis/core';
import type { SimNode, World } from './world.js';

export interface Violation { invariant: string; detail: string; at: number }

export type Policy = 'permanent' | 'transient' | 'temporary';
export interface IdPolicy { restart: Policy; maxRestarts: number; periodMs: number; kind: string }

/** What the workload did, as the checker needs to know it. */
export interface Ledger {
  policy: Map<string, IdPolicy>;
  /** Start requests: req → id, nonce, node; `acked` when it replied ok. */
  starts: Map<number, { id: string; nonce: number; node: string; acked: boolean }>;
  /** Acknowledged terminates: the nonce of the spec the terminating node removed. */
  terminated: { id: string; removedNonce: number | null; ackedAt: number }[];
  /** Ids a terminate was ever issued for. */
  terminateIssued: Set<string>;
  /** Every terminate issued, with the start (nonce) the issuing node held, acknowledged or not. */
  terminating: { id: string; removedNonce: number | null; issuedAt: number }[];
  /** Destructive events (crash or leave): no-loss holds only for one. */
  destructive: number;
}

export class Checker {
  readonly violations: Violation[] = [];
  /** Overlap is only an invariant while nothing but planned moves happen. */
  faultFree = true;
  private unplannedExits = new Map<string, number[]>(); // node/id → exit times
  private stopping = new Set<string>();                 // node/id being stopped by the core

  constructor(private readonly world: World, private readonly ledger: Ledger) {
    world.observers.push((w, n, fx) => this.afterStep(w, n, fx));
  }

  private fail(invariant: string, detail: string): void {
    if (this.violations.length < 20) this.violations.push({ invariant, detail, at: this.world.now });
  }

  /** node#inc/id/nonce: this node held no entry at all for the id after a terminate removed that start. */
  private goneAt = new Set<string>();

  private afterStep(w: World, n: SimNode, fx: Effect[]): void {
    this.watchRemovals(n);
    for (const e of fx) {
      if (e.type === 'run') this.checkNotResurrected(n, e.id, e.args);
      if (e.type === 'stop') this.stopping.add(`${n.name}/${e.id}`);
      if (e.type === 'event') this.checkPolicy(n, e.event as unknown as Record<string, unknown>);
    }
    if (this.faultFree) {
      for (const [id, nodes] of w.runningIds()) {
        if (nodes.length > 1) this.fail('no-overlap', `${id} runs on ${nodes.join(' and ')} during a fault-free planned move`);
      }
    }
  }

  /**
   * Invariant 3, during the run: once a node that held a start drops every entry of the id
   * after a terminate, the start's dot is in its context: it can only come back by
   * resurrection, so it must never run there again.
   * (A runner that has not yet received the terminate may still restart its instance: allowed.)
   */
  private heldAt = new Set<string>();
  private watchRemovals(n: SimNode): void {
    const now = this.world.now;
    for (const t of this.ledger.terminating) {
      if (t.removedNonce === null || now - t.issuedAt > 5000) continue;
      const key = `${n.name}#${n.inc}/${t.id}/${t.removedNonce}`;
      if (this.goneAt.has(key)) continue;
      const spec = n.core.specOf(t.id);
      if (spec === undefined) { if (this.heldAt.has(key)) this.goneAt.add(key); continue; }
      try { if ((JSON.parse(spec.args) as { nonce?: number }).nonce === t.removedNonce) this.heldAt.add(key); } catch { /* not ours */ }
    }
  }

  private checkNotResurrected(n: SimNode, id: string, args: string): void {
    let nonce: number | undefined;
    try { nonce = (JSON.parse(args) as { nonce?: number }).nonce; } catch { return; }
    if (this.goneAt.has(`${n.name}#${n.inc}/${id}/${nonce}`)) {
      this.fail('terminated-stays-terminated', `${id} (start #${nonce}) runs again on ${n.name}, which had already applied the terminate that removed it`);
    }
  }

  /**
   * Invariant 3, at quiescence: a start whose add an acknowledged terminate removed is desired
   * nowhere and runs nowhere. (Before the remove reaches the child's runner, a restart there is
   * legitimate; once everything has been exchanged, the start must be gone for good.)
   */
  checkTerminated(): void {
    for (const n of this.world.aliveNodes()) {
      for (const t of this.ledger.terminated) {
        if (t.removedNonce === null) continue;
        const spec = n.core.specOf(t.id);
        const running = n.running.get(t.id);
        for (const args of [spec?.args, running?.args]) {
          if (!args) continue;
          let nonce: number | undefined;
          try { nonce = (JSON.parse(args) as { nonce?: number }).nonce; } catch { continue; }
          if (nonce === t.removedNonce) {
            this.fail('terminated-stays-terminated', `${t.id} (start #${nonce}) is ${running?.args === args ? 'running' : 'desired'} on ${n.name} although a terminate that removed it was acknowledged at ${t.ackedAt}`);
            return;
          }
        }
      }
    }
  }

  /** Invariant 5: restarts follow the policy and the intensity. */
  private checkPolicy(n: SimNode, e: Record<string, unknown>): void {
    const id = e.id as string | undefined;
    if (!id) return;
    const key = `${n.name}#${n.inc}/${id}`;
    const p = this.ledger.policy.get(id);
    const now = this.world.now;
    switch (e.type) {
      case 'child_exited': {
        const reason = e.reason as string;
        if (reason === 'shutdown' || reason === 'killed' || this.stopping.has(`${n.name}/${id}`)) {
          this.unplannedExits.delete(key);
          this.stopping.delete(`${n.name}/${id}`);
        } else {
          this.unplannedExits.set(key, [...(this.unplannedExits.get(key) ?? []), now]);
        }
        break;
      }
      case 'child_restarting': {
        if (!p) return;
        const reason = e.reason as string;
        if (p.restart === 'temporary') this.fail('restart-policy', `temporary child ${id} restarted on ${n.name}`);
        if (p.restart === 'transient' && reason === 'normal') this.fail('restart-policy', `transient child ${id} restarted after a normal exit on ${n.name}`);
        const recent = (this.unplannedExits.get(key) ?? []).filter((t) => now - t < p.periodMs);
        if (recent.length > p.maxRestarts) this.fail('restart-policy', `${id} restarted on ${n.name} after ${recent.length} exits in ${p.periodMs} ms (max ${p.maxRestarts})`);
        break;
      }
      case 'child_failed': {
        if (!p) return;
        const recent = (this.unplannedExits.get(key) ?? []).filter((t) => now - t < p.periodMs);
        if (recent.length <= p.maxRestarts) this.fail('restart-policy', `${id} marked failed on ${n.name} after only ${recent.length} exits in ${p.periodMs} ms (max ${p.maxRestarts})`);
        this.unplannedExits.delete(key);
        break;
      }
    }
  }

  /**
   * At quiescence (faults over, network healed): invariants 1 (convergence: one runner per
   * runnable desired child, on its owner; equal digests) and 4 (no loss of acknowledged starts).
   */
  converged(): string | null {
    const alive = this.world.aliveNodes().filter((n) => !n.core.info().left);
    if (alive.length === 0) return null;
    const digests = new Set(alive.map((n) => n.core.digest().state));
    if (digests.size > 1) return `digests differ: ${alive.map((n) => `${n.name}=${n.core.digest().state.toString(16).slice(0, 8)}`).join(' ')}`;
    const view = alive[0].core.globalChildren();
    const running = this.world.runningIds();
    const kindsLive = new Set(alive.flatMap((n) => n.opts.kinds ?? ['worker']));
    for (const c of view) {
      if (c.status === 'failed') continue;
      if (!kindsLive.has(c.kind)) {
        if (c.status !== 'pending') return `${c.id} of kind ${c.kind} nobody runs is ${c.status}`;
        continue;
      }
      const at = running.get(c.id) ?? [];
      if (at.length !== 1) return `${c.id} runs on ${at.length} nodes (${at.join(',')})`;
      if (c.status !== 'running' || c.node !== at[0]) return `${c.id} is ${c.status} on ${c.node} in the view but runs on ${at[0]}`;
      const r = alive.find((n) => n.name === at[0])!.running.get(c.id)!;
      if (!r.started) return `${c.id} has not started on ${at[0]}`;
    }
    const desired = new Set(view.map((c) => c.id));
    for (const [id, nodes] of running) if (!desired.has(id)) return `${id} runs on ${nodes.join(',')} but is not desired`;
    return null;
  }

  checkNoLoss(): void {
    if (this.ledger.destructive > 1) return;
    const alive = this.world.aliveNodes().filter((n) => !n.core.info().left);
    if (alive.length === 0) return;
    const desired = new Set(alive[0].core.globalChildren().map((c) => c.id));
    for (const s of this.ledger.starts.values()) {
      if (!s.acked || this.ledger.terminateIssued.has(s.id)) continue;
      if (this.ledger.policy.get(s.id)?.restart !== 'permanent') continue;
      if (!desired.has(s.id)) this.fail('no-loss', `acknowledged start of ${s.id} (#${s.nonce} on ${s.node}) is gone`);
    }
  }
}
