// The conformance scenarios on a mixed cluster: Node and Bun members alternate, so children
// move between runtimes on failover and rebalancing.
import { scenarios } from './scenarios.js';
import { messageScenarios } from './scenarios-messages.js';
import { cordonScenarios } from './scenarios-cordon.js';
import { stateScenarios } from './scenarios-state.js';
import { groupScenarios } from './scenarios-groups.js';
import { majorityScenarios } from './scenarios-majority.js';
import { mixedDriver } from '../src/drivers/cluster.js';

scenarios(mixedDriver);
messageScenarios(mixedDriver);
cordonScenarios(mixedDriver);
stateScenarios(mixedDriver);
groupScenarios(mixedDriver);
majorityScenarios(mixedDriver);
