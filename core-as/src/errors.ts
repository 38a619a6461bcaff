// Typed errors: every failure the API reports is one of these, with data, not a string to parse.

export class TrellisError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A child spec broke a rule; `field` names the field ('id', 'kind', 'args', 'restart', ...). */
export class InvalidChildSpecError extends TrellisError {
  constructor(readonly field: string, message: string) { super('invalid_spec', message); }
}

/** An option given to start() is invalid; `option` names it. */
export class InvalidOptionError extends TrellisError {
  constructor(readonly option: string, message: string) { super('invalid_option', `${option}: ${message}`); }
}

export class NotFoundError extends TrellisError {
  constructor(readonly id: string, message: string) { super('not_found', message); }
}

export class AlreadyStartedError extends TrellisError {
  constructor(readonly id: string, message: string) { super('already_started', message); }
}

/** The supervisor is stopped, stopping, or was never started. */
export class NotRunningError extends TrellisError {
  constructor(message = 'supervisor is not running') { super('not_running', message); }
}

/** The child exceeded its restart intensity before it was seen running. */
export class ChildFailedError extends TrellisError {
  constructor(readonly id: string, message: string) { super('child_failed', message); }
}

export class TimeoutError extends TrellisError {
  constructor(message: string) { super('timeout', message); }
}

/** cordon, uncordon or drain of a name that is neither a member nor in the cordon table. */
export class UnknownMemberError extends TrellisError {
  constructor(readonly member: string, message: string) { super('unknown_member', message); }
}

/** A drain did not finish before its deadline (the member stays draining until uncordoned). */
export class DrainTimeoutError extends TrellisError {
  constructor(readonly member: string, message: string) { super('drain_timeout', message); }
}

/** A drain was replaced (a cordon or uncordon of the member) before it finished. */
export class DrainCancelledError extends TrellisError {
  constructor(readonly member: string, message: string) { super('drain_cancelled', message); }
}

/** An environment variable read by fromEnv() is invalid; `variable` names it, `option` the option it sets. */
export class EnvVariableError extends InvalidOptionError {
  constructor(readonly variable: string, option: string, message: string) {
    super(option, message);
    this.message = `${variable}: ${message}`;
  }
}

// ---- messages to children (messaging.ts) ----

/** The child's buffer on the sending node already holds `limit` messages waiting for it (option `messageBufferMax`). */
export class BufferFullError extends TrellisError {
  constructor(readonly id: string, readonly limit: number) { super('buffer_full', `${limit} messages already wait for ${id}`); }
}

/**
 * The message went to a member that was lost, or whose link broke, before it answered: it may or
 * may not have been delivered, and it is not sent again (a message is never delivered twice).
 */
export class DeliveryUnknownError extends TrellisError {
  constructor(readonly id: string) { super('delivery_unknown', `the member running ${id} was lost before it confirmed the message`); }
}

/** The message is larger than `maxMessageBytes` (UTF-8 JSON bytes). */
export class MessageTooLargeError extends TrellisError {
  constructor(readonly id: string, readonly limit: number) { super('message_too_large', `a message to ${id} must be at most ${limit} bytes of JSON`); }
}

/** The child's message handler threw (or its promise rejected) while answering a call; `error` is what it threw. */
export class CallFailedError extends TrellisError {
  constructor(readonly id: string, readonly error: { name: string; message: string }) { super('call_failed', `${id} failed to answer: ${error.name}: ${error.message}`); }
}

/** Why the instance that took a call ended before answering it (ChildStoppedError.reason). */
export type ChildStopReason = 'moved' | 'terminated' | 'quorum_lost' | 'leaving' | 'exited' | 'crashed';

/**
 * The call reached the child (`delivered` is always true), and the instance that took it ended
 * before it answered: it was moved, terminated, stopped for a quorum lost or a leave of its
 * member, returned by itself ('exited') or crashed. The call may or may not have had its effect;
 * it is not sent again. Only a member lost outright leaves its calls to the caller's timeout.
 */
export class ChildStoppedError extends TrellisError {
  readonly delivered = true;
  constructor(readonly id: string, readonly reason: ChildStopReason) {
    super('child_stopped', `${id} took the call and stopped (${reason}) before it answered`);
  }
}
