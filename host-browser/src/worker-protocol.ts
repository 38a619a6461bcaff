// Messages between the page's handle (page.ts) and the Supervisor in its module Worker
// (supervisor-worker.ts). Everything is structured-clone data: kinds travel as a module URL.
import { errorInfo, type ChildSpec, type CommonOptions, type ErrorInfo, type TabAuth, type TrellisEvent } from '@trellis/core';

/** The Supervisor options a tab passes through unchanged (structured-clone data, checked by the core's start()). */
export interface TabTuning {
  children?: ChildSpec[];
  heartbeatMs?: number;
  failureTimeoutMs?: number;
  syncIntervalMs?: number;
  weight?: number;
  maxFrameBytes?: number;
  partition?: CommonOptions['partition'];
  maxPendingLinks?: number;
  handoffTimeoutMs?: number;
  maxStateBytes?: number;
  messageBufferMax?: number;
  messageBufferMs?: number;
  maxMessageBytes?: number;
}

const TUNING_KEYS = [
  'children', 'heartbeatMs', 'failureTimeoutMs', 'syncIntervalMs', 'weight', 'maxFrameBytes', 'partition', 'maxPendingLinks',
  'handoffTimeoutMs', 'maxStateBytes', 'messageBufferMax', 'messageBufferMs', 'maxMessageBytes',
] as const satisfies readonly (keyof TabTuning)[];

/** The tuning options of `o` that are set (an unset one keeps the core's default). */
export function tuningOf(o: TabTuning): TabTuning {
  const out: Record<string, unknown> = {};
  for (const k of TUNING_KEYS) if (o[k] !== undefined) out[k] = o[k];
  return out as TabTuning;
}

/** An error as it crosses to the page: its name and message, and the typed fields the API's errors carry. */
export interface CallErrorInfo extends ErrorInfo { code?: string; field?: string; option?: string; reason?: string; delivered?: boolean }

export function callErrorInfo(e: unknown): CallErrorInfo {
  const info: CallErrorInfo = errorInfo(e);
  const typed = e as { code?: unknown; field?: unknown; option?: unknown; reason?: unknown; delivered?: unknown };
  if (typeof e === 'object' && e !== null) {
    if (typeof typed.code === 'string') info.code = typed.code;
    if (typeof typed.field === 'string') info.field = typed.field;
    if (typeof typed.option === 'string') info.option = typed.option;
    // ChildStoppedError: why the instance that took the call ended, and that it was delivered.
    if (typeof typed.reason === 'string') info.reason = typed.reason;
    if (typeof typed.delivered === 'boolean') info.delivered = typed.delivered;
  }
  return info;
}

/** A publish's result as it crosses to the page: each failure's error as data. */
export interface PublishResultInfo { sent: number; failed: { id: string; error: CallErrorInfo }[] }

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
  /** The silence bound of links to tabs of this origin (host-browser/src/defaults.ts meshSilenceMs). */
  meshSilenceMs?: number;
  /** Where the core's release.wasm is (default: next to the worker bundle). */
  wasmUrl?: string;
  /** Link same-origin tabs of this scope over a BroadcastChannel (default true; transport-mesh.ts). */
  mesh?: boolean;
}

export type CallMethod = 'startChild' | 'terminateChild' | 'whichChildren' | 'members' | 'stats' | 'stop' | 'kill' | 'renewCredential' | 'meshLinks' | 'send' | 'call' | 'publish'
  | 'cordon' | 'uncordon' | 'drain' | 'setWeight' | 'digest' | 'rejectedFrames' | 'ready';

export type ToWorker =
  | { t: 'start'; options: WorkerStartOptions }
  | { t: 'call'; id: number; method: CallMethod; args: unknown[] };

export type FromWorker =
  | { t: 'ready'; name: string; address: string }
  | { t: 'failed'; error: CallErrorInfo }
  | { t: 'result'; id: number; ok: true; value: unknown }
  | { t: 'result'; id: number; ok: false; error: CallErrorInfo }
  | { t: 'event'; event: TrellisEvent }
  /**
   * The worker was stalled longer than the failure timeout (the machine slept, or its thread was
   * blocked): the cluster may have declared this tab dead, so the Supervisor and its children
   * are already ended, and nothing was sent after the stall. The page rejoins.
   */
  | { t: 'gap'; awayMs: number }
  /** The gateway socket closed: this tab is cut off from the cluster. */
  | { t: 'gateway_closed'; code: number; reason: string };
