// Wasm exports of the testing and debug builds: everything hosts use, plus probes for tests
// and benchmarks (hashing, placement, codec fuzzing, self-tests of the core's tables).
export * from './index';
export * from './exports-placement';
export * from './exports-codec';
export * from './exports-crypto';
export * from './exports-selftest';
export * from './exports-security-testing';
