export * from './wasm.js';
export * from './adapters.js';
export * from './binding.js';
