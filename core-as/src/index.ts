export * from './wasm.js';
export * from './adapters.js';
export * from './binding.js';
export * from './errors.js';
export * from './emitter.js';
export * from './options.js';
export * from './supervisor.js';
