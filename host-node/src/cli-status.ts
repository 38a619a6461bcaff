// `trellis status`: joins the cluster for a moment as a member that advertises no kinds (so no
// child is ever placed on it), waits until it holds every member's claims and the view has
// settled, reads members() and whichChildren('global'), and leaves. Joining is the honest way
// to read: the cluster answers only authenticated members, so this needs the secret or a
// credential like any member, and the others see it come and go (member_up, left).
import type { GlobalChildView, MemberView, Supervisor } from '@trellis/core';
import { TimeoutError } from '@trellis/core';
import type { CliStatusArgs } from './cli-args.js';
import { start } from './start.js';

export interface ClusterStatus { observer: string; members: MemberView[]; children: GlobalChildView[] }

/** How often the view is read while waiting for it to settle. */
const STATUS_POLL_MS = 50;
/** The view counts as settled once unchanged for this many polls after the node is ready. */
const STATUS_STABLE_POLLS = 4;

function viewKey(sup: Supervisor): string {
  const kids = sup.whichChildren('global');
  return `${sup.members().length}/${kids.length}/${kids.reduce((n, c) => n + (c.node ? 1 : 0), 0)}`;
}

/** Joins through `args.seeds`, reads the cluster's members and children, and leaves. */
export async function readStatus(args: CliStatusArgs, auth: { secret?: string; credential?: string }): Promise<ClusterStatus> {
  const sup = await start({
    scope: args.scope, name: args.name ?? (auth.credential ? undefined : `status-${process.pid}`), seeds: args.seeds,
    secret: auth.secret, credential: auth.credential, insecure: args.insecure || undefined, kinds: {},
  });
  try {
    const deadline = Date.now() + args.timeoutMs;
    let last = '';
    let stable = 0;
    while (stable < STATUS_STABLE_POLLS) {
      if (Date.now() > deadline) {
        const why = sup.ready ? 'the view did not settle' : `not ready: ${sup.stats().notReadyReason || 'no member reached'}`;
        throw new TimeoutError(`trellis status: no answer from ${args.seeds.join(', ')} within ${args.timeoutMs} ms (${why})`);
      }
      await new Promise((r) => setTimeout(r, STATUS_POLL_MS));
      const key = sup.ready && sup.members().length > 1 ? viewKey(sup) : '';
      stable = key !== '' && key === last ? stable + 1 : 0;
      last = key;
    }
    return { observer: sup.name, members: sup.members().filter((m) => !m.self), children: sup.whichChildren('global') };
  } finally {
    await sup.stop({ timeoutMs: 2_000 });
  }
}

const pad = (rows: string[][]): string => {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
};

/** The status as a terminal table. */
export function formatStatus(s: ClusterStatus): string {
  const members = [['MEMBER', 'STATUS', 'ADDRESS', 'WEIGHT', 'CHILDREN', 'KINDS'],
    ...s.members.map((m) => [m.name, m.status, m.address || '-', String(m.weight), String(m.children), m.kinds.join(',') || '-'])];
  const children = [['CHILD', 'KIND', 'MEMBER', 'STATUS', 'RESTARTS'],
    ...s.children.map((c) => [c.id, c.kind, c.node ?? '-', c.status, String(c.restarts)])];
  return `${s.members.length} members (read by ${s.observer}, not listed)\n${pad(members)}\n${s.children.length} children\n${pad(children)}`;
}
