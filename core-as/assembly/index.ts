// Wasm exports of the Trellis core as hosts use it: inputBuffer, step, outputPtr, queries.
// Probes for tests and benchmarks are added by index-testing.ts (testing and debug builds).
export * from './exports';
