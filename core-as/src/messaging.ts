// sup.send and sup.call on the runtime side: the options, the promises waiting for the core's
// answer, and handing delivered messages to the runner. Routing, ordering, buffering and bounds
// are the core's (core-as/assembly/messages.ts); this file keeps the callers' promises, and one
// shortcut: a message for a child the core runs on this very node, while nothing of this node's
// for that child waits in the core, goes straight to the runner. That is what the core would do
// with it (deliver to the running local instance at once), and nothing can overtake it: every
// earlier message to that child has been settled.
import type { Core } from './core.js';
import type { Runner } from './adapters.js';
import {
  BufferFullError, CallFailedError, ChildStoppedError, DeliveryUnknownError, InvalidOptionError, MessageTooLargeError, NotFoundError, NotRunningError, TimeoutError,
  type TrellisError, type ChildStopReason,
} from './errors.js';
import { decodeAnswer } from './child-messages.js';
import type { MessageOutcome, StopWhy } from './effect-reader.js';
import type { ExitReason } from './adapters.js';

/** Messages one node holds for one child at most, by default. */
export const MESSAGE_BUFFER_DEFAULT = 10_000;
/** How long a message waits for a running instance at most, by default. */
export const MESSAGE_BUFFER_DEFAULT_MS = 5_000;
/** A message's JSON at most, by default. */
export const MAX_MESSAGE_BYTES_DEFAULT = 1 << 20;
/** The core's ceiling for maxMessageBytes (core-as/assembly/limits.ts MESSAGE_PAYLOAD_BYTES_MAX). */
export const MAX_MESSAGE_BYTES_CEILING = 64 << 20;
/** How long a call waits for its reply, by default. */
export const CALL_TIMEOUT_DEFAULT_MS = 5_000;

export interface MessageOptions {
  /** Messages this node holds for one child while it has no running instance to take them (default 10,000). */
  messageBufferMax?: number;
  /** How long a message may wait for a running instance (default 5,000 ms); then it fails with TimeoutError. */
  messageBufferMs?: number;
  /** A message's size limit, in UTF-8 bytes of its JSON (default 1 MiB). */
  maxMessageBytes?: number;
}
export interface ResolvedMessageOptions { messageBufferMax: number; messageBufferMs: number; maxMessageBytes: number }

export interface CallOptions { timeoutMs?: number }

function intOption(o: Record<string, unknown>, key: string, def: number, max: number): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new InvalidOptionError(key, `must be an integer from 1 to ${max}`);
  return v;
}

export function resolveMessageOptions(o: Record<string, unknown>): ResolvedMessageOptions {
  return {
    messageBufferMax: intOption(o, 'messageBufferMax', MESSAGE_BUFFER_DEFAULT, 2 ** 31 - 1),
    messageBufferMs: intOption(o, 'messageBufferMs', MESSAGE_BUFFER_DEFAULT_MS, 2 ** 31 - 1),
    maxMessageBytes: intOption(o, 'maxMessageBytes', MAX_MESSAGE_BYTES_DEFAULT, MAX_MESSAGE_BYTES_CEILING),
  };
}

interface Waiting {
  id: string;
  call: boolean;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer?: ReturnType<typeof setTimeout>;
  /** A call handed straight to the local instance of this epoch (the shortcut), not through the core. */
  directEpoch?: number;
}

export class Messaging {
  private nextReq = 1;
  private readonly waiting = new Map<number, Waiting>();
  /** Children the core runs here (its child_started, until its stop or their exit): id to epoch. */
  private readonly local = new Map<string, number>();
  /** Messages handed to the core and not settled by it, per child, and the child of each. */
  private readonly inCore = new Map<string, number>();
  private readonly coreReq = new Map<number, string>();
  /**
   * Calls the shortcut handed to a local instance and not answered yet, per child: when the
   * instance ends first they fail with ChildStoppedError, as the core fails those it delivered
   * (core-as/assembly/call-stops.ts). With the stop's why, once the core asked for the stop.
   */
  private readonly direct = new Map<string, { epoch: number; reqs: Set<number>; why?: StopWhy }>();
  /** The runner, once the supervisor has one (the shortcut needs it). */
  runner: Runner | undefined;

  constructor(private readonly core: Core, private readonly o: ResolvedMessageOptions, private readonly feed: (fn: () => void) => void) {}

  /** The options the core needs (sent once, after init). */
  configure(): void { this.core.messageConfig(this.o.messageBufferMax, this.o.messageBufferMs, this.o.maxMessageBytes); }

  send(id: string, msg: unknown): Promise<void> {
    return this.submit(id, msg, false, undefined) as Promise<void>;
  }

  call(id: string, msg: unknown, timeoutMs: number): Promise<unknown> {
    return this.submit(id, msg, true, timeoutMs);
  }

  /**
   * A message's JSON, or the error it fails with (not JSON data; over maxMessageBytes, named after
   * `to`: the child, or the group of a publish).
   */
  encode(to: string, msg: unknown): string | Error {
    let json: string | undefined;
    try { json = JSON.stringify(msg === undefined ? null : msg); } catch (e) { return e as Error; }
    if (json === undefined) return new TypeError(`a message must be JSON data, not ${typeof msg}`);
    // The core checks the limit too; the shortcut below does not reach it. A string of n UTF-16
    // units is at most 3n UTF-8 bytes, so only long ones are measured.
    if (json.length * 3 > this.o.maxMessageBytes && utf8.encode(json).length > this.o.maxMessageBytes) {
      return new MessageTooLargeError(to, this.o.maxMessageBytes);
    }
    return json;
  }

  /** A send of JSON already encoded (and checked) by encode(): publish sends one text to many children. */
  sendEncoded(id: string, json: string): Promise<void> {
    return this.submitEncoded(id, json, false, undefined) as Promise<void>;
  }

  private submit(id: string, msg: unknown, call: boolean, timeoutMs: number | undefined): Promise<unknown> {
    const json = this.encode(id, msg);
    if (typeof json !== 'string') return Promise.reject(json);
    return this.submitEncoded(id, json, call, timeoutMs);
  }

  private submitEncoded(id: string, json: string, call: boolean, timeoutMs: number | undefined): Promise<unknown> {
    const req = this.nextReq;
    this.nextReq = this.nextReq >= 0xffff_fffe ? 1 : this.nextReq + 1;
    const epoch = this.local.get(id);
    if (epoch !== undefined && !this.inCore.has(id) && this.runner) {
      if (!call) { if (this.runner.deliver(id, epoch, json, null)) return DELIVERED; }
      else {
        // Waiting before the delivery: an inline handler may answer within deliver().
        const p = this.wait(req, id, call, timeoutMs);
        const w = this.waiting.get(req)!;
        w.directEpoch = epoch;
        let d = this.direct.get(id);
        if (d === undefined || d.epoch !== epoch) { d = { epoch, reqs: new Set() }; this.direct.set(id, d); }
        d.reqs.add(req);
        if (this.runner.deliver(id, epoch, json, (encoded) => this.reply(req, encoded))) return p;
        // Not delivered after all (the instance had just ended): through the core instead; the
        // abandoned promise is never settled nor returned.
        d.reqs.delete(req);
        if (w.timer) clearTimeout(w.timer);
        this.waiting.delete(req);
      }
    }
    const p = this.wait(req, id, call, timeoutMs);
    this.inCore.set(id, (this.inCore.get(id) ?? 0) + 1);
    this.coreReq.set(req, id);
    this.feed(() => this.core.messageSend(req, call, String(id), json!));
    return p;
  }

  private wait(req: number, id: string, call: boolean, timeoutMs: number | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const w: Waiting = { id, call, resolve, reject };
      if (timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          this.waiting.delete(req);
          if (w.directEpoch !== undefined) this.direct.get(id)?.reqs.delete(req);
          reject(new TimeoutError(`call to ${id} got no reply within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.waiting.set(req, w);
    });
  }

  /** What the core says runs here: child_started (with its epoch), and its stop or exit. */
  started(id: string, epoch: number): void { this.local.set(id, epoch); }
  stopped(id: string, epoch: number): void { if (this.local.get(id) === epoch) this.local.delete(id); }

  /** child_stopping: why the core stops the instance (the reason its unanswered direct calls fail with). */
  stopping(id: string, epoch: number, why: StopWhy): void {
    const d = this.direct.get(id);
    if (d !== undefined && d.epoch === epoch) d.why = why;
  }

  /** child_exited: the instance ended; the calls the shortcut handed it and it did not answer fail now. */
  exited(id: string, epoch: number, reason: ExitReason | 'start_failed'): void {
    this.stopped(id, epoch);
    const d = this.direct.get(id);
    if (d === undefined || d.epoch !== epoch) return;
    this.direct.delete(id);
    const why: ChildStopReason = d.why ?? (reason === 'normal' ? 'exited' : 'crashed');
    for (const req of d.reqs) this.callStopped(req, why);
  }

  /** FX_CALL_STOPPED, or exited(): the call was delivered and its instance ended unanswered. */
  callStopped(req: number, reason: ChildStopReason): void {
    const w = this.waiting.get(req);
    if (!w) return; // timed out already
    this.waiting.delete(req);
    if (w.timer) clearTimeout(w.timer);
    w.reject(new ChildStoppedError(w.id, reason));
  }

  /** FX_MESSAGE_STATUS: delivered (a send resolves) or never will be (it rejects). */
  status(req: number, outcome: MessageOutcome): void {
    const id = this.coreReq.get(req);
    if (id !== undefined) {
      this.coreReq.delete(req);
      const left = (this.inCore.get(id) ?? 1) - 1;
      if (left > 0) this.inCore.set(id, left); else this.inCore.delete(id);
    }
    const w = this.waiting.get(req);
    if (!w) return;
    if (outcome === 'delivered' && w.call) return; // a call resolves with its reply
    this.waiting.delete(req);
    if (w.timer) clearTimeout(w.timer);
    if (outcome === 'delivered') w.resolve(undefined);
    else w.reject(this.failure(outcome, w.id));
  }

  /** FX_CALL_REPLY: the child's answer. */
  reply(req: number, data: string): void {
    const w = this.waiting.get(req);
    if (!w) return; // timed out already
    this.waiting.delete(req);
    if (w.timer) clearTimeout(w.timer);
    if (w.directEpoch !== undefined) this.direct.get(w.id)?.reqs.delete(req);
    let a: ReturnType<typeof decodeAnswer>;
    try { a = decodeAnswer(data); } catch (e) { w.reject(e as Error); return; }
    if (a.ok) w.resolve(a.value);
    else w.reject(new CallFailedError(w.id, a.error));
  }

  /** FX_DELIVER: to the runner; a call's answer goes back through the core to the caller. */
  deliver(runner: Runner, id: string, epoch: number, caller: string, callerInc: number, req: number, data: string): void {
    const answer = req > 0 ? (encoded: string) => this.feed(() => this.core.messageReply(caller, callerInc, req, encoded)) : null;
    runner.deliver(id, epoch, data, answer);
  }

  private failure(outcome: MessageOutcome, id: string): TrellisError {
    switch (outcome) {
      case 'not_found': return new NotFoundError(id, `no child ${id} is desired`);
      case 'buffer_full': return new BufferFullError(id, this.o.messageBufferMax);
      case 'timeout': return new TimeoutError(`no running instance of ${id} took the message within ${this.o.messageBufferMs} ms`);
      case 'delivery_unknown': return new DeliveryUnknownError(id);
      case 'too_large': return new MessageTooLargeError(id, this.o.maxMessageBytes);
      default: return new NotRunningError();
    }
  }

  /** The supervisor stopped: every waiting caller fails. */
  close(): void {
    for (const [, w] of this.waiting) { if (w.timer) clearTimeout(w.timer); w.reject(new NotRunningError('supervisor stopped')); }
    this.waiting.clear();
    this.direct.clear();
  }
}

const DELIVERED: Promise<void> = Promise.resolve();
const utf8 = new TextEncoder();
