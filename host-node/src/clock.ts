// The Node clock: wall time and one timer. The timer is unref'd: an idle node stays alive
// because its sockets are open, not because the core asked to wake later.
import type { Clock } from '@trellis/core';

export class NodeClock implements Clock {
  private timer: ReturnType<typeof setTimeout> | undefined;
  now(): number { return Date.now(); }
  setTimer(atMs: number, fire: () => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = undefined; fire(); }, Math.max(0, atMs - Date.now()));
    this.timer.unref?.();
  }
  clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
