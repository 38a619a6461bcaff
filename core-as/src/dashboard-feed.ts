// What a member's dashboard page is pushed: a full picture when a page connects, then, at most
// every DASHBOARD_PUSH_MS and only when something changed, the rows that changed (children rows
// are the same frozen objects while unchanged, so finding them is one identity check per row),
// and the cluster events since the last push. Nothing runs while no page is connected, and while
// pages are, the pushes take at most DASHBOARD_CPU_SHARE_MAX of the member's time: a costly push
// (a burst of changes over many children) puts the next one off, up to DASHBOARD_PUSH_DELAY_MAX_MS
// (a push's time is wall time, which a loaded machine inflates: the page must not go stale for it).
import type { GlobalChildView, MemberView } from './queries.js';
import type { Supervisor, TrellisEvent } from './supervisor.js';

/** How often changes are pushed to open pages, at most, in milliseconds. */
export const DASHBOARD_PUSH_MS = 250;
/** The largest share of the member's time the pushes take: after a push of t ms the next waits at least t / this. */
export const DASHBOARD_CPU_SHARE_MAX = 0.02;
/** The longest a costly push puts the next one off, in milliseconds. */
export const DASHBOARD_PUSH_DELAY_MAX_MS = 1000;
/** Events kept per push for the feed; a burst beyond this is counted, not sent. */
export const DASHBOARD_EVENTS_PER_PUSH_MAX = 200;

/** A child row on the wire: id, kind, member ('' for none), status, restarts. */
export type DashboardRow = [string, string, string, string, number];

export type DashboardMessage =
  | { t: 'full'; node: string; at: number; members: MemberView[]; rows: DashboardRow[] }
  | { t: 'delta'; at: number; members?: MemberView[]; set: DashboardRow[]; del: string[] }
  | { t: 'events'; at: number; events: TrellisEvent[]; dropped: number };

const row = (c: GlobalChildView): DashboardRow => [c.id, c.kind, c.node ?? '', c.status, c.restarts];

export class DashboardFeed {
  private readonly pages = new Set<(message: string) => void>();
  private sent = new Map<string, GlobalChildView>();
  private membersJson = '';
  private digest = '';
  private events: TrellisEvent[] = [];
  private dropped = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onEvent = (e: TrellisEvent): void => {
    if (this.events.length < DASHBOARD_EVENTS_PER_PUSH_MAX) this.events.push(e);
    else this.dropped++;
  };

  constructor(private readonly sup: Supervisor) {}

  /** Connects a page: `send` gets one JSON message per call, starting with the full picture. Returns the disconnect. */
  connect(send: (message: string) => void): () => void {
    if (this.pages.size === 0) this.begin();
    const members = this.sup.members();
    const rows = this.sup.whichChildren('global');
    send(JSON.stringify({ t: 'full', node: this.sup.name, at: Date.now(), members, rows: rows.map(row) } satisfies DashboardMessage));
    this.pages.add(send);
    return () => {
      this.pages.delete(send);
      if (this.pages.size === 0) this.end();
    };
  }

  get connected(): number { return this.pages.size; }

  private begin(): void {
    this.sent = new Map(this.sup.whichChildren('global').map((c) => [c.id, c]));
    this.membersJson = JSON.stringify(this.sup.members());
    this.digest = this.sup.digest();
    this.sup.on('event', this.onEvent);
    this.schedule(DASHBOARD_PUSH_MS);
  }

  private end(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.sup.off('event', this.onEvent);
    this.sent.clear();
    this.events = [];
    this.dropped = 0;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      const t = performance.now();
      this.push();
      const putOff = Math.min(DASHBOARD_PUSH_DELAY_MAX_MS, (performance.now() - t) / DASHBOARD_CPU_SHARE_MAX);
      if (this.pages.size > 0) this.schedule(Math.max(DASHBOARD_PUSH_MS, putOff));
    }, ms);
  }

  /** Sends what changed since the last push to every page, if anything did. */
  private push(): void {
    if (!this.sup.running) return;
    const at = Date.now();
    const members = this.sup.members();
    const membersJson = JSON.stringify(members);
    const digest = this.sup.digest();
    const out: string[] = [];
    // The digest covers the desired map and every live member's claims; members cover the rest.
    if (digest !== this.digest || membersJson !== this.membersJson || this.events.length > 0) {
      // Rows are compared in place: a push allocates only the rows it sends (and, when the list
      // shrank, one set of the ids to find the deleted ones).
      const set: DashboardRow[] = [];
      const list = this.sup.whichChildren('global');
      for (const c of list) {
        if (this.sent.get(c.id) !== c) { set.push(row(c)); this.sent.set(c.id, c); }
      }
      const del: string[] = [];
      if (this.sent.size !== list.length) {
        const ids = new Set(list.map((c) => c.id));
        for (const id of this.sent.keys()) if (!ids.has(id)) { del.push(id); this.sent.delete(id); }
      }
      const membersChanged = membersJson !== this.membersJson;
      this.digest = digest;
      this.membersJson = membersJson;
      if (set.length > 0 || del.length > 0 || membersChanged) {
        out.push(JSON.stringify({ t: 'delta', at, ...(membersChanged ? { members } : {}), set, del } satisfies DashboardMessage));
      }
    }
    if (this.events.length > 0 || this.dropped > 0) {
      out.push(JSON.stringify({ t: 'events', at, events: this.events, dropped: this.dropped } satisfies DashboardMessage));
      this.events = [];
      this.dropped = 0;
    }
    for (const send of this.pages) for (const m of out) send(m);
  }
}
