// The timer clock every host uses: wall time and one timer. Where the runtime supports it the
// timer is unref'd: an idle node stays alive because of its sockets, not because of a wake-up.
import type { Clock } from './adapters.js';

export class TimerClock implements Clock {
  private timer: ReturnType<typeof setTimeout> | undefined;
  now(): number { return Date.now(); }
  setTimer(atMs: number, fire: () => void): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = undefined; fire(); }, Math.max(0, atMs - Date.now()));
    (this.timer as { unref?: () => void }).unref?.();
  }
  clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Cryptographic random bytes through Web Crypto (Node 20, Bun and browsers all have it). */
export function webRandomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  return b;
}
