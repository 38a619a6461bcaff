// Query results: what the core's query exports write (core-as/assembly/queries.ts), decoded into
// the views the Supervisor returns. One function per query; the Core picks the Q_* code. The
// global view has its own decoder, which keeps rows between calls (global-view.ts).

import type { OutReader } from './effect-reader.js';
import { FRAME_ERROR_NAMES, STATUS_NAMES, PLACEMENT_STATE_NAMES } from './generated/boundary.js';

export type ChildStatus = (typeof STATUS_NAMES)[number];

export interface LocalChildView { id: string; kind: string; status: ChildStatus; epoch: number; restarts: number }
/** A row of whichChildren('global'): frozen, shared between calls while it does not change. */
export interface GlobalChildView { readonly id: string; readonly kind: string; readonly node: string | null; readonly status: ChildStatus; readonly restarts: number; readonly reason?: string }
export interface MemberView {
  name: string; incarnation: number; address: string; weight: number; kinds: string[];
  children: number; status: 'up' | 'leaving' | 'disconnected'; self: boolean;
  /** Its entry in the replicated cordon table: 'active' (takes new children), 'cordoned' or 'draining'. */
  state: (typeof PLACEMENT_STATE_NAMES)[number];
}
export interface NodeInfo {
  name: string; incarnation: number; ready: boolean; leaving: boolean; left: boolean;
  /** Children in the replicated desired set, and run by this node. */
  desired: number; local: number;
  /** Why this node does not start children yet ('' when ready). */
  notReadyReason: string;
  /** Local children running, and starting / stopping / restarting. */
  running: number; transitioning: number;
  /** Other live members. */
  peers: number;
  /** The quorum lease is held (always true in 'available' mode): this node may start children and acknowledge. */
  quorum: boolean;
  /** partition 'majority': the names in this node's roster that have not left (its N is roster / 2 + 1); 0 in the other modes. */
  roster: number;
  /** Other members with an open link (after this node's BYE, each closes it once it has read the BYE). */
  linked: number;
}
export interface SpecView { id: string; kind: string; args: string; restart: number; shutdownMs: number; maxRestarts: number; periodMs: number; failed: boolean; groups: string[] }

/** A rejected-frame counter: a FERR_* name, or handshake_timeout, which the core counts in the FERR_OK slot. */
export type RejectReason = 'handshake_timeout' | Exclude<(typeof FRAME_ERROR_NAMES)[number], 'ok'>;
/** Names of the rejected-frame counters, by index in the core's counters. */
export const REJECT_REASONS: readonly RejectReason[] = ['handshake_timeout', ...(FRAME_ERROR_NAMES.slice(1) as RejectReason[])];

/** Member status codes in the members query (queries.ts writeMembers). */
const MEMBER_STATUSES = ['up', 'leaving', 'disconnected'] as const;

export function readLocalChildren(r: OutReader): LocalChildView[] {
  const n = r.u32();
  const out: LocalChildView[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { id: r.str(), kind: r.str(), status: STATUS_NAMES[r.u8()], epoch: r.u32(), restarts: r.u32() };
  return out;
}

function readStrings(r: OutReader): string[] {
  const n = r.u32();
  const t: string[] = new Array(n);
  for (let i = 0; i < n; i++) t[i] = r.str();
  return t;
}

export function readMembers(r: OutReader): MemberView[] {
  const n = r.u32();
  const out: MemberView[] = [];
  for (let i = 0; i < n; i++) {
    const name = r.str(), incarnation = r.u64(), address = r.str(), weight = r.f64();
    const kinds = readStrings(r);
    const children = r.u32(); const st = r.u8(); const self = r.u8() === 1; const state = PLACEMENT_STATE_NAMES[r.u8()] ?? 'active';
    out.push({ name, incarnation, address, weight, kinds, children, status: MEMBER_STATUSES[st] ?? 'up', self, state });
  }
  return out;
}

/** Digest of the whole replicated state (desired map + every live member's claims), and of the desired map alone. */
export function readDigest(r: OutReader): { state: bigint; desired: bigint } {
  return { state: r.u64big(), desired: r.u64big() };
}

export function readCounters(r: OutReader): Record<RejectReason, number> {
  const n = r.u32();
  const c = {} as Record<RejectReason, number>;
  for (let i = 0; i < n; i++) c[REJECT_REASONS[i] ?? (`code_${i}` as RejectReason)] = r.u32();
  return c;
}

export function readInfo(r: OutReader): NodeInfo {
  return { name: r.str(), incarnation: r.u64(), ready: r.u8() === 1, leaving: r.u8() === 1, left: r.u8() === 1, desired: r.u32(), local: r.u32(), notReadyReason: r.str(), running: r.u32(), transitioning: r.u32(), peers: r.u32(), quorum: r.u8() === 1, roster: r.u32(), linked: r.u32() };
}

/** The answer to querySpec: u8 found, then the spec fields. */
export function readSpec(r: OutReader): SpecView | undefined {
  if (r.u8() === 0) return undefined;
  return { id: r.str(), kind: r.str(), args: r.str(), restart: r.u8(), shutdownMs: r.u32(), maxRestarts: r.u32(), periodMs: r.u32(), failed: r.u8() === 1, groups: readStrings(r) };
}
