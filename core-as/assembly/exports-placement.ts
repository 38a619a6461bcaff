// Placement, hashing and crypto exports for tests and benchmarks (owned by the placement work).
export function placementVersion(): i32 { return 1; }
