// @trellis/core/testing: what the simulator, the vectors, the property tests and the benchmarks
// need beyond what hosts use. Nothing here is meant for a production node.
export { TestCore, PlantedBug, type PlacementMember } from './test-core.js';
export { GlobalViewKeeper, GLOBAL_VIEW_KEEP_MS } from '../global-view-keeper.js';
export { REJECT_REASONS } from '../queries.js';
export * from '../wasm.js';
/** The init config's quorum value for partition 'majority' (options.ts passes it; the simulator sets it directly). */
export { QUORUM_MAJORITY, SYNC_FRAME_BYTES_MAX } from '../generated/boundary.js';
