/** How a HubSpot SDK exception (ApiException or a fetch failure) becomes a CrmError. */
import {
  CrmAuthExpiredError,
  CrmError,
  CrmNotFoundError,
  CrmPermissionError,
  CrmRateLimitError,
  CrmRequestError,
  CrmUnavailableError,
} from '../errors.ts';

export interface HsRecordLike {
  id: string;
  properties: Record<string, string | null>;
  updatedAt: Date;
}
export interface HsErrorLike {
  category: string;
  message: string;
  context?: Record<string, string[]>;
}

export function httpCode(error: unknown): number | null {
  if (error instanceof Error && 'code' in error && typeof error.code === 'number') return error.code;
  return null;
}

export function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** Milliseconds until the next midnight UTC: HubSpot's daily quota resets at the portal's midnight. */
function untilMidnightUtc(now: Date): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return next - now.getTime();
}

/** Translates an SDK exception (ApiException or a fetch failure) into a CrmError. */
export function toCrmError(what: string, error: unknown): CrmError {
  if (error instanceof CrmError) return error;
  const status = httpCode(error);
  if (status === null) {
    const message = error instanceof Error ? error.message : String(error);
    return new CrmUnavailableError('hubspot', `${what}: HubSpot unreachable (${message})`, null, null);
  }
  const body = field(error, 'body');
  const headers = field(error, 'headers');
  const vendorMessage =
    typeof field(body, 'message') === 'string' ? String(field(body, 'message')) : 'no message';
  const category = typeof field(body, 'category') === 'string' ? String(field(body, 'category')) : null;
  const message = `${what}: HubSpot ${status} ${vendorMessage}`;
  if (status === 429) {
    const policy = typeof field(body, 'policyName') === 'string' ? String(field(body, 'policyName')) : null;
    const header = (name: string) => {
      const v = field(headers, name);
      return typeof v === 'string' ? Number.parseInt(v, 10) : Number.NaN;
    };
    const retryAfterSeconds = header('retry-after');
    const intervalMs = header('x-hubspot-ratelimit-interval-milliseconds');
    const daily = policy === 'DAILY';
    const secondly = policy === 'SECONDLY' || vendorMessage === 'You have reached your secondly limit.';
    const retryAfterMs = Number.isFinite(retryAfterSeconds)
      ? retryAfterSeconds * 1000
      : daily
        ? untilMidnightUtc(new Date())
        : secondly
          ? 1000
          : Number.isFinite(intervalMs)
            ? intervalMs
            : 10_000;
    return new CrmRateLimitError('hubspot', message, retryAfterMs, daily ? 'daily' : 'burst', policy, status);
  }
  if (status === 401) return new CrmAuthExpiredError('hubspot', message, category, status);
  if (status === 403) return new CrmPermissionError('hubspot', message, category, status);
  if (status === 404) return new CrmNotFoundError('hubspot', message, category, status);
  if (status >= 500) return new CrmUnavailableError('hubspot', message, category, status);
  const errors = field(body, 'errors');
  const missingProperty =
    vendorMessage.includes('PROPERTY_DOESNT_EXIST') ||
    (Array.isArray(errors) && errors.some((e) => field(e, 'code') === 'PROPERTY_DOESNT_EXIST'));
  return new CrmRequestError(
    'hubspot',
    missingProperty ? 'not_installed' : 'invalid_request',
    message,
    category,
    status,
  );
}
