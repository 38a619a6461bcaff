// The conformance scenarios on a cluster of real Node.js processes.
import { scenarios } from './scenarios.js';
import { stateScenarios } from './scenarios-state.js';
import { nodeDriver } from '../src/drivers/cluster.js';

scenarios(nodeDriver);
stateScenarios(nodeDriver);
