// @trellis/bun: start() for Bun, its adapters, and the shared API types.
export { start, type BunStartOptions } from './start.js';
export { BunTransport, type BunTransportOptions } from './transport-bun.js';
export { BunRunner } from './runner.js';
export {
  Supervisor, TimerClock, TrellisError, InvalidChildSpecError, InvalidOptionError, NotFoundError, AlreadyStartedError,
  NotRunningError, ChildFailedError, TimeoutError,
  type ChildSpec, type TrellisEvent, type KindDefinition, type ChildContext, type GlobalChildView, type LocalChildView, type MemberView,
} from '@trellis/core';
export {
  fromEnv, EnvVariableError, type EnvOptions, type TlsOptions, type TlsReason, type SeedSource, type DnsSeed, type SeedFunction,
} from '@trellis/core';
