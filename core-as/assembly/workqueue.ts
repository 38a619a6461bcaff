// A FIFO of ids with set semantics: adding an id already queued does nothing. Reconcile works
// through it a budget at a time, so taking from the front must not copy what is left (a
// backlog of 100,000 ids would otherwise cost O(backlog) per step).
import { StrSet } from './strmap';

export class WorkQueue {
  private queued: StrSet = new StrSet();
  private items: Array<string> = [];
  private head: i32 = 0;

  get size(): i32 { return this.queued.size; }

  /** The id is queued (its strHash known). */
  hasHashed(id: string, h: u32): bool { return this.queued.hasHashed(id, h); }

  add(id: string): void {
    if (this.queued.addIfAbsent(id)) this.items.push(id);
  }

  /** The oldest id, removed from the queue. Only when size > 0. */
  take(): string {
    const id = this.items[this.head++];
    this.queued.delete(id);
    // Compact once the consumed prefix dominates, keeping take() amortised O(1).
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return id;
  }

  clear(): void {
    this.queued.clear();
    this.items = [];
    this.head = 0;
  }
}
