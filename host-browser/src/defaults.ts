// A tab's own timing defaults, longer than a server member's (core-as/src/options.ts: heartbeat
// 250 ms, failure timeout 1 s, sync 1 s). Tabs of one origin form a full mesh, so what a tab
// sends per interval grows with the number of tabs, and a tab's own death is seen without its
// silence: a leave (pagehide, freeze), its gateway socket closing, its Web Lock. Heartbeats run
// at the rate each receiver asks for (docs/PROTOCOL.md "Handshake"), so a server member still
// hears from a tab as often as its own, shorter failure timeout needs.

/** A tab takes a silent member for dead after this long. */
export const TAB_FAILURE_TIMEOUT_DEFAULT_MS = 5000;
/** The heartbeat a tab asks its peers for: a quarter of its failure timeout (the core's ratio). */
export const TAB_HEARTBEAT_PER_FAILURE_TIMEOUT = 4;
/** Anti-entropy and MEMBERS gossip between a tab and each member. */
export const TAB_SYNC_INTERVAL_DEFAULT_MS = 5000;

/** The server member's defaults (core-as/src/options.ts), which a tab keeps under a quorum. */
const CORE_FAILURE_TIMEOUT_DEFAULT_MS = 1000;
const CORE_SYNC_INTERVAL_DEFAULT_MS = 1000;

export interface TabTiming { heartbeatMs: number; failureTimeoutMs: number; syncIntervalMs: number }

/**
 * How long a tab takes a peer tab that is silent on the mesh for dead, by default (transport-mesh.ts
 * watched links): a closed, crashed or navigated tab is seen at once by its lock, a frozen one
 * leaves, so silence only finds a tab alive but hung (its worker blocked), which a server member
 * still takes down after its own failure timeout.
 */
export const TAB_MESH_SILENCE_DEFAULT_MS = 60_000;

/**
 * The mesh links' silence bound: `meshSilenceMs` if set; else the failure timeout if the tab set
 * one (it asked for silence to be judged within it); else TAB_MESH_SILENCE_DEFAULT_MS.
 */
export function meshSilenceMs(o: { meshSilenceMs?: number; failureTimeoutMs?: number }, timing: TabTiming): number {
  if (o.meshSilenceMs !== undefined) return o.meshSilenceMs;
  return o.failureTimeoutMs !== undefined ? timing.failureTimeoutMs : TAB_MESH_SILENCE_DEFAULT_MS;
}

/**
 * The timing a tab runs with: what it set, the rest from the tab defaults (a heartbeat derived
 * from the failure timeout). Under a quorum (`partition` other than 'available') the defaults
 * are the server's: the lease others wait out for a lost member is their own failure timeout
 * (core-as/assembly/lease.ts), so a tab must not hold its quorum longer than they would.
 */
export function tabTiming(o: Partial<TabTiming> & { partition?: unknown }): TabTiming {
  const available = o.partition === undefined || o.partition === 'available';
  const failureTimeoutMs = o.failureTimeoutMs ?? (available ? TAB_FAILURE_TIMEOUT_DEFAULT_MS : CORE_FAILURE_TIMEOUT_DEFAULT_MS);
  return {
    failureTimeoutMs,
    heartbeatMs: o.heartbeatMs ?? Math.max(1, Math.floor(failureTimeoutMs / TAB_HEARTBEAT_PER_FAILURE_TIMEOUT)),
    syncIntervalMs: o.syncIntervalMs ?? (available ? TAB_SYNC_INTERVAL_DEFAULT_MS : CORE_SYNC_INTERVAL_DEFAULT_MS),
  };
}
