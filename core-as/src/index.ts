export * from './wasm.js';
export * from './adapters.js';
