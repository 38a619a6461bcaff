// Keeps the binding's rows of the global view decoded between reads. After a step that changed
// rows of the view, at most once every GLOBAL_VIEW_KEEP_MS and in a task of its own, the rows
// changed since the last read or update are decoded into the rows whichChildren('global') returns.
// So a read, the first one included, decodes only what changed since then, instead of every row
// with code the runtime has not optimised yet (the cold cost of a first read at 10,000 children
// was 3-8 ms of decoding). A read still asks the core for the rows changed since, so it is as
// fresh as the last step either way. At rest (no row changes) this costs one call per step. After
// a membership change a large view is not rebuilt here (the core says nothing is pending): the
// next read rebuilds and decodes it, as it did before the keeper.

/** Shortest time between two updates: the changes of a burst are decoded once per period. */
export const GLOBAL_VIEW_KEEP_MS = 100;

interface ViewSource { globalViewPending(): boolean; updateGlobalView(): void }

export class GlobalViewKeeper {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly core: ViewSource) {}

  /** After every step. */
  afterStep(): void {
    if (this.timer !== undefined || !this.core.globalViewPending()) return;
    this.timer = setTimeout(this.update, GLOBAL_VIEW_KEEP_MS);
    // Node and Bun: a pending update does not keep the process alive (browsers return a number).
    (this.timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly update = (): void => {
    this.timer = undefined;
    this.core.updateGlobalView();
  };
}
