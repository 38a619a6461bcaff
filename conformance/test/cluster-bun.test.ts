// The conformance scenarios on a cluster of real Bun processes (the bun binary from npm).
import { scenarios } from './scenarios.js';
import { stateScenarios } from './scenarios-state.js';
import { bunDriver } from '../src/drivers/cluster.js';

scenarios(bunDriver);
stateScenarios(bunDriver);
