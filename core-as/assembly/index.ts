// Wasm exports of the Trellis core. Each file re-exported here owns one group of exports.
export * from './exports';
export * from './exports-placement';
export * from './exports-codec';
export * from './exports-crypto';
export * from './exports-selftest';
// testing-only: moves to index-testing.ts
export * from './exports-security-testing';
