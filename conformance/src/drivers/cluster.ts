// A ClusterDriver starts members on one host runtime (or a mix) and tracks them, so the
// scenarios can be written once and run per driver.
import { isolationsOf, type Host, type Isolation, type Member, type MemberOptions } from './member-api.js';
import { ProcessMember } from './process-member.js';
import { TabGateways, TabMember } from './tab-member.js';

export interface ClusterDriver {
  /** Label printed in results, e.g. 'node', 'bun', 'mixed'. */
  readonly name: string;
  /** Which runtime runs the i-th member started by a scenario. */
  hostFor(i: number): Host;
}

export const nodeDriver: ClusterDriver = { name: 'node', hostFor: () => 'node' };
export const bunDriver: ClusterDriver = { name: 'bun', hostFor: () => 'bun' };
/** Node and Bun members alternate: a, c, e on Node; b, d on Bun. */
export const mixedDriver: ClusterDriver = { name: 'mixed', hostFor: (i) => (i % 2 === 0 ? 'node' : 'bun') };
/** Chromium tabs, behind the gateway of a Node member that is infrastructure, not one of the scenario's members. */
export const browserDriver: ClusterDriver = { name: 'browser', hostFor: () => 'browser' };
/** Node, Bun and Chromium tabs alternate: a, d on Node; b, e on Bun; c on a tab. */
export const mixed3Driver: ClusterDriver = { name: 'mixed3', hostFor: (i) => (['node', 'bun', 'browser'] as const)[i % 3] };

/** Whether the first `n` members the driver starts can all run children in `isolation` (a scenario picks its kinds by it). */
export function allSupport(driver: ClusterDriver, n: number, isolation: Isolation): boolean {
  for (let i = 0; i < n; i++) if (!isolationsOf(driver.hostFor(i)).includes(isolation)) return false;
  return true;
}

export class Cluster {
  readonly members: Member[] = [];
  private started = 0;
  private readonly gateways: TabGateways;
  constructor(readonly driver: ClusterDriver, readonly defaults: Partial<MemberOptions> = {}) {
    this.gateways = new TabGateways(defaults);
  }

  /** Starts a member; the first one is the seed of the others unless seeds are given. */
  async add(o: Partial<MemberOptions> & { name: string }): Promise<Member> {
    const seeds = o.seeds ?? (this.members.length ? [this.members.find((m) => m.alive)!.address] : []);
    const host = this.driver.hostFor(this.started++);
    const opts = { ...this.defaults, ...o, seeds };
    // A tab joins through its gateway's own member (which links it to the cluster) unless told otherwise.
    const m = host === 'browser' ? await TabMember.open(await this.gateways.for(opts, seeds), { ...opts, seeds: o.seeds })
      : await ProcessMember.spawn(host, opts);
    m.hidden = this.gateways.names;
    this.members.push(m);
    return m;
  }

  async addMany(names: string[], o: Partial<MemberOptions> = {}): Promise<Member[]> {
    const out: Member[] = [];
    for (const name of names) out.push(await this.add({ ...o, name }));
    return out;
  }

  get(name: string): Member {
    const m = [...this.members].reverse().find((x) => x.name === name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  alive(): Member[] { return this.members.filter((m) => m.alive); }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
    await this.gateways.close();
  }

  /** For every id, the alive members whose local view has it running (or starting). */
  async placements(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const m of this.alive()) {
      const local = await m.whichChildren('local');
      for (const c of local) if (c.status === 'running' || c.status === 'starting') out.set(c.id, [...(out.get(c.id) ?? []), m.name]);
    }
    return out;
  }

  /** Every id runs on exactly one alive member, all on `on` if given, and digests agree. */
  async settled(ids: string[], on?: string[]): Promise<boolean> {
    const p = await this.placements();
    for (const id of ids) {
      const at = p.get(id);
      if (!at || at.length !== 1) return false;
      if (on && !on.includes(at[0])) return false;
    }
    const ds = await Promise.all(this.alive().map((m) => m.digest()));
    return ds.every((d) => d === ds[0]);
  }

  /**
   * Overlap measured from the children's own start/stop reports (wall clock): ids that ran on
   * two members at the same time, each named with both spans (the child's own clock, ms).
   */
  overlaps(): string[] {
    return this.overlapSpans().map(({ id, first: x, second: y }) => `${id}: ${x.node} ${x.up.toFixed(1)}-${x.down.toFixed(1)}, ${y.node} from ${y.up.toFixed(1)}`);
  }

  /** The same overlaps as data: the first two spans of an id on two members that overlap. */
  overlapSpans(): ChildOverlap[] {
    const spans = new Map<string, ChildSpan[]>();
    for (const m of this.members) {
      const open = new Map<string, number>();
      for (const { event } of m.events) {
        if (event.type !== 'child_event') continue;
        const id = event.id as string;
        const t = (event.data as { t: number } | undefined)?.t ?? 0;
        if (event.name === 'up') open.set(id, t);
        if (event.name === 'down' && open.has(id)) {
          spans.set(id, [...(spans.get(id) ?? []), { node: m.name, up: open.get(id)!, down: t }]);
          open.delete(id);
        }
      }
      for (const [id, up] of open) spans.set(id, [...(spans.get(id) ?? []), { node: m.name, up, down: m.alive ? Infinity : up }]);
    }
    const bad: ChildOverlap[] = [];
    for (const [id, list] of spans) {
      list.sort((a, b) => a.up - b.up);
      for (let i = 1; i < list.length; i++) {
        const [x, y] = [list[i - 1], list[i]];
        if (y.up < x.down && y.node !== x.node) { bad.push({ id, first: x, second: y }); break; }
      }
    }
    return bad;
  }
}

/** A child's run on one member by its own reports (ms, wall clock; down Infinity while it runs). */
export interface ChildSpan { node: string; up: number; down: number }
export interface ChildOverlap { id: string; first: ChildSpan; second: ChildSpan }
