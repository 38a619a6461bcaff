// Messages between the page's handle (page.ts) and the Supervisor in its module Worker
// (supervisor-worker.ts). Everything is structured-clone data: kinds travel as a module URL.
import type { ChildSpec, ErrorInfo, TabAuth, TrellisEvent } from '@trellis/core';

/** The Supervisor options a tab passes through unchanged. */
export interface TabTuning {
  children?: ChildSpec[];
  heartbeatMs?: number;
  failureTimeoutMs?: number;
  syncIntervalMs?: number;
  weight?: number;
  maxFrameBytes?: number;
}

/** What start() sends the worker: the options, with kinds as the URL of a module exporting `kinds`. */
export interface WorkerStartOptions extends TabTuning {
  scope: string;
  name?: string;
  /** The gateway's WebSocket URL, e.g. ws://127.0.0.1:4000/trellis/browser. */
  gateway: string;
  auth: TabAuth;
  secret?: string;
  /** A credential token (mintCredential) the tab's core joins with, instead of a secret. */
  credential?: string;
  /** A cluster without a secret, said explicitly (start() refuses neither a secret nor `insecure`). */
  insecure?: boolean;
  /** undefined: the gateway's own member, as its WELCOME names it. */
  seeds?: string[];
  kindsModule: string;
  /** Where the core's release.wasm is (default: next to the worker bundle). */
  wasmUrl?: string;
  /** Link same-origin tabs of this scope over a BroadcastChannel (default true; transport-mesh.ts). */
  mesh?: boolean;
}

export type CallMethod = 'startChild' | 'terminateChild' | 'whichChildren' | 'members' | 'stats' | 'stop' | 'kill' | 'renewCredential' | 'meshLinks';

export type ToWorker =
  | { t: 'start'; options: WorkerStartOptions }
  | { t: 'call'; id: number; method: CallMethod; args: unknown[] };

export type FromWorker =
  | { t: 'ready'; name: string; address: string }
  | { t: 'failed'; error: ErrorInfo }
  | { t: 'result'; id: number; ok: true; value: unknown }
  | { t: 'result'; id: number; ok: false; error: ErrorInfo }
  | { t: 'event'; event: TrellisEvent }
  /**
   * The worker was stalled longer than the failure timeout (the machine slept, or its thread was
   * blocked): the cluster may have declared this tab dead, so the Supervisor and its children
   * are already ended, and nothing was sent after the stall. The page rejoins.
   */
  | { t: 'gap'; awayMs: number }
  /** The gateway socket closed: this tab is cut off from the cluster. */
  | { t: 'gateway_closed'; code: number; reason: string };
