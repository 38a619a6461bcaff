// A child's state as it crosses runners and members: `{ version, data }` from the child's hooks
// (ctx.onDehydrate, ctx.checkpoint) becomes bytes with the schema version beside them, and back
// (ctx.state). `data` is a Uint8Array (carried as it is) or JSON data. The first byte says which.
import type { ErrorInfo } from './adapters.js';
import type { StateAnswer } from './event-writer.js';

/** What a child hands over or checkpoints: its data and the schema version it is written in. */
export interface ChildState { version: number; data: unknown }

/** The state an instance starts from, and where it came from. */
export interface RehydratedState extends ChildState {
  /** 'handoff': its previous instance gave it on a planned move; 'checkpoint': its last checkpoint. */
  source: 'handoff' | 'checkpoint';
  /** The member whose instance gave it. */
  from: string;
}

/** An encoded state as a runner carries it. */
export interface StateBytes { version: number; bytes: Uint8Array; source?: 'handoff' | 'checkpoint'; from?: string }

const FORMAT_JSON = 0;
const FORMAT_BYTES = 1;
const VERSION_MAX = 2 ** 32 - 1;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Encodes a hook's value; throws a TypeError naming what is wrong with it. */
export function encodeState(s: unknown): StateBytes {
  if (s === null || typeof s !== 'object') throw new TypeError('a child state must be { version, data }');
  const { version, data } = s as ChildState;
  if (!Number.isInteger(version) || version < 0 || version > VERSION_MAX) throw new TypeError('a child state\'s version must be an integer from 0 to 2^32-1');
  if (data instanceof Uint8Array) {
    const bytes = new Uint8Array(data.length + 1);
    bytes[0] = FORMAT_BYTES;
    bytes.set(data, 1);
    return { version, bytes };
  }
  const json = JSON.stringify(data === undefined ? null : data);
  if (json === undefined) throw new TypeError(`a child state's data must be JSON data or a Uint8Array, not ${typeof data}`);
  // Straight into the final array when the JSON is ASCII (one byte per unit, the common case for a
  // large state): one allocation and one pass instead of two of each.
  const direct = new Uint8Array(json.length + 1);
  if (enc.encodeInto(json, direct.subarray(1)).read === json.length) {
    direct[0] = FORMAT_JSON;
    return { version, bytes: direct };
  }
  const body = enc.encode(json);
  const bytes = new Uint8Array(body.length + 1);
  bytes[0] = FORMAT_JSON;
  bytes.set(body, 1);
  return { version, bytes };
}

export function decodeState(s: StateBytes): RehydratedState {
  const b = s.bytes;
  const data = b[0] === FORMAT_BYTES ? b.slice(1) : JSON.parse(dec.decode(b.subarray(1)));
  return { version: s.version, data, source: s.source ?? 'handoff', from: s.from ?? '' };
}

function errorOf(e: unknown): ErrorInfo {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

/** Calls a dehydrate hook (none: 'none') and encodes its value; a throw or a bad value is 'failed'. */
export async function dehydrateWith(hook: (() => unknown) | undefined): Promise<StateAnswer> {
  if (!hook) return { outcome: 'none' };
  try {
    const s = encodeState(await hook());
    return { outcome: 'given', version: s.version, bytes: s.bytes };
  } catch (e) {
    return { outcome: 'failed', error: errorOf(e) };
  }
}

/** The state part of a child's context, for inline and isolated children alike. */
export interface StateContext {
  state?: RehydratedState;
  onDehydrate(hook: () => ChildState | Promise<ChildState>): void;
  checkpoint(state: ChildState): void;
}

/**
 * Builds it: `given` is what the instance starts from; the hook is kept through `keepHook`;
 * a checkpoint is encoded here (a bad value throws at the child's call) and passed on.
 */
export function stateContext(given: StateBytes | undefined, keepHook: (hook: () => unknown) => void, checkpointed: (s: StateBytes) => void): StateContext {
  const ctx: StateContext = {
    onDehydrate: (hook) => {
      if (typeof hook !== 'function') throw new TypeError('onDehydrate needs a function');
      keepHook(hook);
    },
    checkpoint: (s) => checkpointed(encodeState(s)),
  };
  if (given) ctx.state = decodeState(given);
  return ctx;
}
