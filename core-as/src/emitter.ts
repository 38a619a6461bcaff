// A minimal typed event emitter (no Node API, so it runs on every host).
export class Emitter<E> {
  private listeners = new Set<(e: E) => void>();
  on(_type: 'event', fn: (e: E) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  off(_type: 'event', fn: (e: E) => void): void { this.listeners.delete(fn); }
  protected emit(e: E): void {
    for (const fn of this.listeners) {
      try { fn(e); } catch { /* a listener's bug must not break the supervisor */ }
    }
  }
}
