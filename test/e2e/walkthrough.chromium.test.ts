// @vitest-environment node
import { walkthrough } from './walkthrough.ts';

walkthrough('chromium');
