// @vitest-environment node

import { restartScenarios } from './restart-scenarios.ts';

restartScenarios('firefox');
