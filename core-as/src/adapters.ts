// The three small adapters a host supplies to the runtime (DESIGN.md, "The runtime").
// Hosts implement these; the Supervisor drives them. Nothing here decides anything.
import type { TlsReason } from './tls.js';
import type { GatewayEvent } from './gateway.js';
import type { MessageHandler } from './child-messages.js';
import type { ChildState, RehydratedState, StateBytes } from './child-state.js';
import type { StateAnswer } from './event-writer.js';

/** Why a dial failed, as far as the core cares: 'refused' (refused or reset) or anything else. */
export type DialFailure = 'refused' | 'other';

/** Callbacks a Transport reports to. Link ids are allocated by the transport, unique per process. */
export interface TransportHandlers {
  /**
   * A connection is open. `outbound` when we dialed it; `address` is what was dialed (outbound) or
   * the peer's remote address. `watchedSilenceMs`: the link is reliable and in order and the
   * transport reports the peer's end itself (closes the link the moment the peer is gone), so a
   * peer silent on it is down only after this long (for one alive but hung), and the core asks
   * for few heartbeats on it (core-as/assembly/watched-links.ts).
   */
  opened(link: number, outbound: boolean, address: string, watchedSilenceMs?: number): void;
  /** One complete binary message arrived on the link. The array may be reused after the call returns. */
  frame(link: number, bytes: Uint8Array): void;
  /** The link is gone (either side closed it, or it broke). Called once per opened link. */
  closed(link: number, reason: string): void;
  /**
   * A dial did not produce a link (refused, timed out, bad address). `failure` is 'refused' when
   * the OS said nothing listens there (connection refused or reset): the core takes a member
   * whose link closed and whose redial is refused as gone at once. Anything else is 'other'.
   */
  dialFailed(address: string, reason: string, failure?: DialFailure): void;
  /**
   * A TLS link refused by certificate verification: on the dialing side (`outbound`, `address` as
   * dialed, followed by dialFailed) or the listening side (`address` is the dialer's remote
   * address; no link was opened). `code` is the TLS stack's own code, for logs.
   */
  tlsFailed?(address: string, outbound: boolean, reason: TlsReason, code: string): void;
  /** A problem the transport could not attribute to a link (e.g. listen error after start). */
  error?(err: Error): void;
  /** What a transport's gateway reports (tabs joined, refused, cut off). */
  gateway?(event: GatewayEvent): void;
  /** Whether `address` is a member's or a seed's this node knows (the only ones its gateway dials for a tab). */
  knownAddress?(address: string): boolean;
}

export interface Transport {
  /** Start accepting links, if this transport listens. Resolves to the address peers should dial, e.g. ws://127.0.0.1:4000. */
  listen(handlers: TransportHandlers): Promise<string | undefined>;
  /** Open a link to `address`; the outcome arrives as `opened` or `dialFailed`. */
  dial(address: string): void;
  /** Send one binary message on an open link. Unknown or closed links are ignored. */
  send(link: number, bytes: Uint8Array): void;
  /** Close one link with a reason (reported later through `closed`). */
  close(link: number, reason: string): void;
  /** Close everything and stop listening. */
  shutdown(): Promise<void>;
  /**
   * The pair key of this credential member and credential member `peer` in `epoch`, from a
   * server member (docs/PROTOCOL.md "Keys and credentials"); undefined when it cannot be had. A
   * transport without it (servers, and credential members of hosts with no gateway) links no
   * other credential member: such links are refused with `no_shared_key`.
   */
  pairKey?(peer: string, epoch: number): Promise<Uint8Array | undefined>;
}

/** Why a child stopped. `shutdown` = it ended after we asked; `killed` = it was forced after shutdownMs. */
export type ExitReason = 'normal' | 'crash' | 'shutdown' | 'killed';

/** An error as data: what crossed a runner or the core, never a string to parse. */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
}

export interface RunnerHandlers {
  started(id: string, epoch: number): void;
  exited(id: string, epoch: number, reason: ExitReason, error?: ErrorInfo): void;
  startFailed(id: string, epoch: number, error: ErrorInfo): void;
  /**
   * Asked to stop, the child has not ended `shutdownMs` later and cannot be forced (an inline
   * function that ignores its signal). It still runs: `exited` follows once it settles.
   */
  unresponsive(id: string, epoch: number): void;
  /** The answer to `Runner.dehydrate` (state handoff). */
  state?(id: string, epoch: number, answer: StateAnswer): void;
  /** The child checkpointed its state (ctx.checkpoint). */
  checkpoint?(id: string, epoch: number, state: StateBytes): void;
}

/** What a running child sees. */
export interface ChildContext {
  id: string;
  /** Name of the node running it. */
  node: string;
  /** Aborted when the child must shut down. */
  signal: AbortSignal;
  /** Lets a child report domain events; the supervisor re-emits them as `child_event`. */
  emit(name: string, data?: unknown): void;
  /**
   * Takes the messages sent to this child with `sup.send` / `sup.call`, one call per message in
   * per-sender order (child-messages.ts says how a call is answered). Messages that arrive before
   * it is called wait for it.
   */
  onMessage(handler: MessageHandler): void;
  /** The state this instance starts from (handed over on a move, or its last checkpoint); undefined when it starts fresh. */
  state?: RehydratedState;
  /**
   * Registers the hook a planned move (a join, a drain, a graceful leave) calls for the state to
   * hand to the next instance, which sees it as `ctx.state`. The instance is stopped right after.
   */
  onDehydrate(hook: () => ChildState | Promise<ChildState>): void;
  /** Replicates `state` to the member that would run this child next: a crash of this node loses only what came after. */
  checkpoint(state: ChildState): void;
}

export type InlineRun = (args: unknown, ctx: ChildContext) => unknown | Promise<unknown>;

/** A kind the user registers. inline: a function in this thread; worker/process: a module exporting `run` (or default). */
export type KindDefinition =
  | { run: InlineRun; isolate?: 'inline' }
  | { module: URL | string; isolate: 'worker' | 'process'; export?: string };

export interface Runner {
  /** Start a child; report `started` once it runs, or `startFailed`. Exactly one of started/startFailed, then at most one exited. */
  run(id: string, epoch: number, kind: string, args: unknown, handlers: RunnerHandlers, state?: StateBytes): void;
  /** Ask a running child for its state: answered through `handlers.state` (once); false when no such child runs here. */
  dehydrate?(id: string, epoch: number): boolean;
  /**
   * Ask it to stop: signal, then force after shutdownMs (0 = at once). Reports `exited` with
   * 'shutdown' or 'killed' once it has ended; a child that cannot be forced is reported
   * `unresponsive` after shutdownMs and `exited` when it does end.
   */
  stop(id: string, epoch: number, shutdownMs: number): void;
  /**
   * A message for a running child (JSON text); `answer` takes the encoded reply of a call (null
   * for a send). False when no such instance runs here (it ended after the core delivered).
   */
  deliver(id: string, epoch: number, data: string, answer: ((encoded: string) => void) | null): boolean;
  /** Stop every child (used at process exit); resolves once each has exited or is unresponsive. */
  stopAll(shutdownMs: number): Promise<void>;
}

/** The only clock the runtime reads, so tests and simulators can control time. */
export interface Clock {
  now(): number;
  /** Arm the single timer (replacing any earlier one) to fire at absolute time `atMs`. */
  setTimer(atMs: number, fire: () => void): void;
  clearTimer(): void;
}
