// What every real-cluster scenario file needs: a cluster per test, closed after it, and a wait
// until the cluster has formed (every member sees n up and is ready).
import { afterEach } from 'vitest';
import { Cluster, type ClusterDriver } from '../src/drivers/cluster.js';
import { waitUntil, type MemberOptions } from '../src/drivers/process-member.js';

export function useCluster(driver: ClusterDriver, failureMs: number): {
  make: (o?: Partial<MemberOptions>) => Cluster;
  formed: (c: Cluster, n: number) => Promise<void>;
} {
  let cl: Cluster | undefined;
  const make = (o = {}) => (cl = new Cluster(driver, { failureTimeoutMs: failureMs, heartbeatMs: 100, ...o }));
  afterEach(async () => { await cl?.close(); cl = undefined; });
  const formed = (c: Cluster, n: number) => waitUntil(async () => {
    for (const m of c.alive()) if ((await m.members()).filter((x) => x.status === 'up').length !== n || !(await m.call('ready'))) return false;
    return true;
  }, 15000, `${n} members`);
  return { make, formed };
}
