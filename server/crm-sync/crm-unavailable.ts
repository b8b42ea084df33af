import type { FastifyBaseLogger } from 'fastify';
import { type CrmError, CrmRateLimitError } from '../../crm-plugins/errors.ts';
import type { CrmPlugin } from '../../crm-plugins/types.ts';
import { ApiError } from '../errors.ts';

/**
 * A CRM's typed refusal as the relay answers it: 502 CRM_UNAVAILABLE with `retryable` and, when the
 * CRM throttled us, `retryAfterSeconds`. The vendor's own words stay in the log (`what` says which
 * call failed): they can name fields and records.
 */
export function crmUnavailable(
  plugin: CrmPlugin,
  error: CrmError,
  log: FastifyBaseLogger,
  what: string,
): ApiError {
  log.warn({ err: error, crm: plugin.id, vendorCode: error.vendorCode }, `${what}: CRM call failed`);
  return new ApiError(
    502,
    'CRM_UNAVAILABLE',
    error.retryable
      ? `${plugin.label} did not take the request just now; try again shortly.`
      : `${plugin.label} refused the relay's request (${error.code}); an admin needs to check the CRM connection.`,
    {
      crm: plugin.id,
      crmError: error.code,
      retryable: error.retryable,
      ...(error instanceof CrmRateLimitError
        ? { retryAfterSeconds: Math.max(1, Math.ceil(error.retryAfterMs / 1000)) }
        : {}),
    },
  );
}
