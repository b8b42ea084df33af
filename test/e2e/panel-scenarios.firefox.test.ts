// @vitest-environment node

import { panelScenarios } from './panel-scenarios.ts';

panelScenarios('firefox');
