// Shared wiring for the security tests: a secret cluster of real member processes on 127.0.0.1,
// and a snapshot of everything an attack must not change.
import { ProcessMember, waitUntil, type MemberOptions } from '../src/drivers/process-member.js';

export const SCOPE = 'conformance';
export const SECRET = 'the cluster secret of the security tests';

export async function member(o: MemberOptions): Promise<ProcessMember> {
  return ProcessMember.spawn('node', { secret: SECRET, ...o });
}

/** Waits until every member sees every other one up. */
export async function formed(ms: ProcessMember[], timeoutMs = 10_000): Promise<void> {
  await waitUntil(async () => {
    for (const m of ms) {
      const up = (await m.members()).filter((x) => x.status === 'up').map((x) => x.name);
      if (!ms.every((o) => o === m || up.includes(o.name))) return false;
    }
    return true;
  }, timeoutMs, 'cluster formed');
}

/** Membership (name, incarnation, status), digest and global children as each member sees them. */
export async function snapshot(ms: ProcessMember[]): Promise<unknown> {
  return Promise.all(ms.map(async (m) => ({
    members: (await m.members()).map((x) => [x.name, x.incarnation, x.status]).sort(),
    digest: await m.digest(),
    children: (await m.whichChildren('global')).map((c) => [c.id, c.node, c.status]).sort(),
  })));
}

export function rejections(m: ProcessMember, reason: string): number {
  return m.events.filter((e) => e.event.type === 'link_rejected' && e.event.reason === reason).length;
}

export { waitUntil };
