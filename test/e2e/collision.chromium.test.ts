// @vitest-environment node

import { collisionScenario } from './collision.ts';

collisionScenario('chromium');
