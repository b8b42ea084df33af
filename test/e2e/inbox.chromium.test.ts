// @vitest-environment node

import { inboxScenario } from './inbox.ts';

inboxScenario('chromium');
