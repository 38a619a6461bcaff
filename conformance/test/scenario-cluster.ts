// What every scenario file needs: a cluster per test on the driver (closed after it), and the
// wait for a formed cluster.
import { afterEach } from 'vitest';
import { Cluster, type ClusterDriver } from '../src/drivers/cluster.js';
import { waitUntil, type MemberOptions } from '../src/drivers/member-api.js';

export const FAILURE_MS = 600;

/** Registers the cleanup; returns `make`, which starts this test's cluster. */
export function clusterPerTest(driver: ClusterDriver, failureMs = FAILURE_MS): (o?: Partial<MemberOptions>) => Cluster {
  let cl: Cluster | undefined;
  afterEach(async () => { await cl?.close(); cl = undefined; });
  return (o = {}) => (cl = new Cluster(driver, { failureTimeoutMs: failureMs, heartbeatMs: 100, ...o }));
}

/** Every alive member sees `n` members up and is ready. */
export const formed = (c: Cluster, n: number): Promise<void> => waitUntil(async () => {
  for (const m of c.alive()) if ((await m.members()).filter((x) => x.status === 'up').length !== n || !(await m.call('ready'))) return false;
  return true;
}, 15000, `${n} members`);
