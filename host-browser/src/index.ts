// @trellis/browser: start() for a tab (the Supervisor in a module Worker, joined through a
// server member's gateway), and the tab's gateway transport for those who drive it directly.
export { start, BrowserSupervisor, SupervisorCallError, type BrowserStartOptions, type TabLifecycleEvent } from './page.js';
export { GatewayTransport, GatewayRefusedError, GATEWAY_JOIN_TIMEOUT_MS } from './transport-gateway.js';
export { messageChannelYield } from './yield.js';
export type { TrellisEvent, ChildSpec, MemberView, LocalChildView, GlobalChildView } from '@trellis/core';
