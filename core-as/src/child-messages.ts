// How a child takes its messages, the same for inline, worker and process children: one handler
// registered with ctx.onMessage, called once per message in arrival order; messages that arrive
// before the handler is registered wait for it (the core has already bounded them).
//
// A call is answered by the handler's `reply(value)` or, if it does not call it, by the value its
// return (or its promise) settles to, when that is not undefined; a throw or a rejection answers
// the caller with CallFailedError. Answers travel as text: 'r' + JSON of the value, or
// 'e' + JSON of { name, message }.
import type { ErrorInfo } from './adapters.js';

/** `reply` answers a call (a no-op for a plain send); `isCall` says whether anyone waits. */
export type MessageHandler = (msg: unknown, reply: (value?: unknown) => void, isCall: boolean) => unknown;

function errorOf(e: unknown): ErrorInfo {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: typeof e === 'string' ? e : String(e) };
}

/** The encoded answer of a call ('r' + JSON value, or 'e' + JSON error). */
export function encodeAnswer(value: unknown): string {
  return 'r' + (JSON.stringify(value === undefined ? null : value) ?? 'null');
}
export function encodeFailure(e: unknown): string { return 'e' + JSON.stringify(errorOf(e)); }

/** A decoded answer: the value, or what the handler threw. */
export function decodeAnswer(text: string): { ok: true; value: unknown } | { ok: false; error: ErrorInfo } {
  if (text.charCodeAt(0) === 0x65 /* e */) return { ok: false, error: JSON.parse(text.slice(1)) as ErrorInfo };
  return { ok: true, value: JSON.parse(text.slice(1)) };
}

interface Waiting { data: string; answer: ((encoded: string) => void) | null }

/** One child's mailbox: the handler once registered, the messages that came before it. */
export class Mailbox {
  private handler: MessageHandler | null = null;
  private early: Waiting[] = [];
  closed = false;

  /** ctx.onMessage: sets the handler (a later call replaces it) and hands it what waited. */
  onMessage(fn: MessageHandler): void {
    if (typeof fn !== 'function') throw new TypeError('onMessage needs a function (msg, reply) => ...');
    this.handler = fn;
    const early = this.early;
    this.early = [];
    for (const w of early) this.run(w.data, w.answer);
  }

  /** A message for this child: JSON text; `answer` takes the encoded reply of a call. */
  deliver(data: string, answer: ((encoded: string) => void) | null): void {
    if (this.closed) return;
    if (!this.handler) { this.early.push({ data, answer }); return; }
    this.run(data, answer);
  }

  private run(data: string, answer: ((encoded: string) => void) | null): void {
    let done = false;
    const reply = (value?: unknown): void => {
      if (done || !answer) return;
      done = true;
      let text: string;
      try { text = encodeAnswer(value); } catch (e) { text = encodeFailure(e); }
      answer(text);
    };
    const fail = (e: unknown): void => {
      if (done || !answer) return;
      done = true;
      answer(encodeFailure(e));
    };
    let result: unknown;
    try {
      result = this.handler!(JSON.parse(data), reply, answer !== null);
    } catch (e) {
      fail(e);
      return;
    }
    if (!answer) return;
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then((v) => { if (v !== undefined) reply(v); }, fail);
    } else if (result !== undefined) reply(result);
  }
}
