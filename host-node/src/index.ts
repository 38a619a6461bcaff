// @trellis/node: start() for Node.js, its adapters, and the shared API types.
export { start, coreModule, type NodeStartOptions } from './start.js';
export { WsTransport, type WsTransportOptions } from './transport-ws.js';
export { NodeRunner } from './runner.js';
export { TimerClock } from '@trellis/core';
export {
  Supervisor, TrellisError, InvalidChildSpecError, InvalidOptionError, NotFoundError, AlreadyStartedError,
  NotRunningError, ChildFailedError, TimeoutError,
  type ChildSpec, type TrellisEvent, type KindDefinition, type ChildContext, type GlobalChildView, type LocalChildView, type MemberView,
} from '@trellis/core';
export {
  fromEnv, EnvVariableError, type EnvOptions, type TlsOptions, type TlsReason, type SeedSource, type DnsSeed, type SeedFunction,
} from '@trellis/core';
