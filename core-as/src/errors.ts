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
