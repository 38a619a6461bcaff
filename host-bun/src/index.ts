// @trellis/bun: start() for Bun, its adapters, and the shared API types.
export { start, type BunStartOptions } from './start.js';
export { BunTransport, type BunTransportOptions } from './transport-bun.js';
export { BunRunner } from './runner.js';
export * from '@trellis/core/api';
