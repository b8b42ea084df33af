import { Type } from 'typebox';

/** GET /healthz: the relay and its database answer. */
export const HealthStatus = Type.Object(
  { status: Type.Literal('ok', { description: 'Always "ok"; a failing database answers 503 instead' }) },
  { description: 'The relay is up and its database answers' },
);
