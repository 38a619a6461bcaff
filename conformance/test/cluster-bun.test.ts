// The conformance scenarios on a cluster of real Bun processes (the bun binary from npm).
import { scenarios } from './scenarios.js';
import { messageScenarios } from './scenarios-messages.js';
import { cordonScenarios } from './scenarios-cordon.js';
import { stateScenarios } from './scenarios-state.js';
import { groupScenarios } from './scenarios-groups.js';
import { majorityScenarios } from './scenarios-majority.js';
import { bunDriver } from '../src/drivers/cluster.js';

scenarios(bunDriver);
messageScenarios(bunDriver);
cordonScenarios(bunDriver);
stateScenarios(bunDriver);
groupScenarios(bunDriver);
majorityScenarios(bunDriver);
