// @trellis/core/api: the API a user of any host sees, re-exported as it is by every host package
// (@trellis/node, @trellis/bun), so the list lives in one place.
export {
  Supervisor, TimerClock, TrellisError, InvalidChildSpecError, InvalidOptionError, NotFoundError, AlreadyStartedError,
  NotRunningError, ChildFailedError, TimeoutError, fromEnv, EnvVariableError, UnknownMemberError, DrainTimeoutError, DrainCancelledError,
  BufferFullError, DeliveryUnknownError, MessageTooLargeError, CallFailedError, ChildStoppedError, type ChildStopReason, type CallOptions, type MessageHandler,
  type CordonOptions, type DrainOptions, type PublishResult, type PublishFailure,
  type ChildSpec, type TrellisEvent, type KindDefinition, type ChildContext, type GlobalChildView, type LocalChildView, type MemberView,
  type ChildState, type RehydratedState, type HandoffFailure,
  type EnvOptions, type TlsOptions, type TlsReason, type SeedSource, type DnsSeed, type SeedFunction,
} from './index.js';
export type { DashboardOptions, DashboardRefusal } from './dashboard-serve.js';
