// @trellis/core/dashboard: what a server host needs to serve the dashboard page (the feed, the
// routes and files, the credential-checked actions); the HTTP serving itself is the host's.
export * from './dashboard-feed.js';
export * from './dashboard-serve.js';
export { ACTIONS, ACTION_TIMEOUT_MS, DRAIN_DEADLINE_MS, runAction, type ActionName, type ActionAnswer } from './dashboard-actions.js';
