// @trellis/node: start() for Node.js, its adapters, and the shared API types.
export { start, coreModule, type NodeStartOptions } from './start.js';
export { WsTransport, type WsTransportOptions } from './transport-ws.js';
export { NodeRunner } from './runner.js';
export * from '@trellis/core/api';
