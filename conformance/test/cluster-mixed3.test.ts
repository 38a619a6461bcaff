// The conformance scenarios on a three-runtime cluster: Node, Bun and Chromium tabs alternate,
// so children move between runtimes on failover and rebalancing.
import { afterAll } from 'vitest';
import { scenarios } from './scenarios.js';
import { messageScenarios } from './scenarios-messages.js';
import { cordonScenarios } from './scenarios-cordon.js';
import { stateScenarios } from './scenarios-state.js';
import { groupScenarios } from './scenarios-groups.js';
import { tabMajorityScenarios } from './scenarios-majority-tabs.js';
import { mixed3Driver } from '../src/drivers/cluster.js';
import { closeTabBrowser } from '../src/drivers/tab-member.js';

afterAll(closeTabBrowser);
scenarios(mixed3Driver);
messageScenarios(mixed3Driver);
cordonScenarios(mixed3Driver);
stateScenarios(mixed3Driver);
groupScenarios(mixed3Driver);
tabMajorityScenarios(mixed3Driver);
