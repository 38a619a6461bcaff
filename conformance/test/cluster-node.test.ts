// The conformance scenarios on a cluster of real Node.js processes.
import { scenarios } from './scenarios.js';
import { messageScenarios } from './scenarios-messages.js';
import { cordonScenarios } from './scenarios-cordon.js';
import { stateScenarios } from './scenarios-state.js';
import { groupScenarios } from './scenarios-groups.js';
import { majorityScenarios } from './scenarios-majority.js';
import { nodeDriver } from '../src/drivers/cluster.js';

scenarios(nodeDriver);
messageScenarios(nodeDriver);
cordonScenarios(nodeDriver);
stateScenarios(nodeDriver);
groupScenarios(nodeDriver);
majorityScenarios(nodeDriver);
