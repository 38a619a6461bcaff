// @trellis/core: what hosts use — the Supervisor and its options, the adapters a host supplies,
// the shared runners, the core binding and the views it returns. Probes, planted bugs and the
// other test-only entry points are in '@trellis/core/testing'.
export { releaseWasmUrl } from './wasm.js';
export * from './adapters.js';
export { Core } from './core.js';
export type { CoreConfig, CoreCredential, NodeParams, WaitMode, PlacementState } from './event-writer.js';
export { resolveCordonOptions, resolveDrainOptions, type CordonOptions, type DrainOptions } from './cordon-options.js';
export type { Effect, CoreEvent, ReplyCode, StopWhy, MessageOutcome, HandoffFailure } from './effect-reader.js';
export { encodeState, decodeState, type ChildState, type RehydratedState, type StateBytes } from './child-state.js';
export type { StateAnswer } from './event-writer.js';
export type { ChildStatus, LocalChildView, GlobalChildView, MemberView, NodeInfo, SpecView, RejectReason } from './queries.js';
export { MAX_FRAME_BYTES_DEFAULT, MAX_FRAME_BYTES_MIN, transportPayloadMax, CLOSE_REASON_CHARS_MAX, DIAL_TIMEOUT_MS, SHUTDOWN_DRAIN_MS } from './limits.js';
export * from './errors.js';
export * from './emitter.js';
export * from './options.js';
export * from './supervisor.js';
export * from './runner.js';
export * from './runner-inline.js';
export * from './runner-isolated.js';
export * from './child-protocol.js';
export { Mailbox, encodeAnswer, encodeFailure, decodeAnswer, type MessageHandler } from './child-messages.js';
export {
  MESSAGE_BUFFER_DEFAULT, MESSAGE_BUFFER_DEFAULT_MS, MAX_MESSAGE_BYTES_DEFAULT, CALL_TIMEOUT_DEFAULT_MS, resolveMessageOptions,
  type MessageOptions, type CallOptions,
} from './messaging.js';
export { type PublishResult, type PublishFailure } from './groups.js';
export * from './clock.js';
export * from './credential.js';
export { startWith, checkListen, type HostStart } from './start-with.js';
export { WS_CLOSE_CODE, WS_CLOSE_TOO_BIG, checkDialAddress, closeReason, dialFailureOf, closeText, listenAddress } from './websocket.js';
export { checkTls, tlsReason, TLS_REASONS, TLS_REFUSED_STATUS, type TlsOptions, type TlsReason, type PemInput } from './tls.js';
export { parseSeeds, parseDnsSeedUrl, resolveSeeds, type DnsSeed, type SeedFunction, type SeedSource, type SeedFailure } from './seeds.js';
export { checkAdvertise, advertisedAddress } from './advertise.js';
export { systemLookup, externalIpv4Addresses, type Lookup } from './system-net.js';
export { fromEnv, parseHostPort, ENV_VARIABLES, type EnvOptions } from './env.js';
export {
  Gateway, GATEWAY_PATH_DEFAULT, GATEWAY_LIMITS_DEFAULT, PAIR_KEY_REQUESTS_BURST_MAX, PAIR_KEY_REQUESTS_PER_SECOND_MAX, type GatewayOptions, type GatewayHost, type GatewayMember, type GatewayLimits, type GatewayEvent, type GatewayRoute,
  type GatewaySocket, type GatewaySocketEvents, type GatewayPipeEvents, type GatewayDial, type GatewayCutReason, type GatewayRefusal, type GatewayDialRefusal, type PairKeyRefusal,
} from './gateway.js';
export * from './gateway-wire.js';
export { GatewayLocalLinks, GATEWAY_LOCAL_ADDRESS } from './gateway-local.js';
export { derivePairKey, pairKeyInput, pairKeyEpoch, PAIR_KEY_BYTES, PAIR_KEY_EPOCH_MS } from './pair-key.js';
export type { MetricsData, MetricFamily, MetricSample } from './metrics-data.js';
export { checkTabCredential, credentialVerifierKey, type CredentialRefusal, type CredentialCheck } from './gateway-credential.js';
