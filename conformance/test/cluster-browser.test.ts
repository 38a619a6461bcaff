// The conformance scenarios on a cluster of Chromium tabs (one browser, a page per member)
// behind the gateway of a Node member that is infrastructure: every scenario's member is a tab.
import { afterAll } from 'vitest';
import { scenarios } from './scenarios.js';
import { messageScenarios } from './scenarios-messages.js';
import { cordonScenarios } from './scenarios-cordon.js';
import { stateScenarios } from './scenarios-state.js';
import { groupScenarios } from './scenarios-groups.js';
import { tabMajorityScenarios } from './scenarios-majority-tabs.js';
import { browserDriver } from '../src/drivers/cluster.js';
import { closeTabBrowser } from '../src/drivers/tab-member.js';

afterAll(closeTabBrowser);
scenarios(browserDriver);
messageScenarios(browserDriver);
cordonScenarios(browserDriver);
stateScenarios(browserDriver);
groupScenarios(browserDriver);
tabMajorityScenarios(browserDriver);
