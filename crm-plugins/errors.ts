import type { CrmId } from './types.ts';

export type CrmErrorCode =
  | 'rate_limited'
  | 'auth_expired'
  | 'forbidden'
  | 'not_found'
  | 'invalid_request'
  | 'unavailable'
  | 'not_installed';

/** Every error a plugin throws; vendor exceptions are translated at the SDK boundary. */
export class CrmError extends Error {
  override readonly name: string = 'CrmError';
  constructor(
    readonly crm: CrmId,
    readonly code: CrmErrorCode,
    message: string,
    /** The vendor's own error code (e.g. `INVALID_SESSION_ID`), for logs. */
    readonly vendorCode: string | null = null,
    readonly httpStatus: number | null = null,
  ) {
    super(message);
    this.retryable = code === 'rate_limited' || code === 'unavailable';
  }

  /** Whether the same call can succeed later without anyone changing anything. */
  readonly retryable: boolean;
}

/** The CRM throttled us; a sync worker waits `retryAfterMs` before the next call. */
export class CrmRateLimitError extends CrmError {
  override readonly name = 'CrmRateLimitError';
  constructor(
    crm: CrmId,
    message: string,
    readonly retryAfterMs: number,
    /** Which quota ran out: `daily` ones last for hours, `burst` ones for seconds. */
    readonly scope: 'burst' | 'daily',
    vendorCode: string | null,
    httpStatus: number | null,
  ) {
    super(crm, 'rate_limited', message, vendorCode, httpStatus);
  }
}

/** The token is expired or revoked; the caller re-authenticates (refresh or a new connect). */
export class CrmAuthExpiredError extends CrmError {
  override readonly name = 'CrmAuthExpiredError';
  constructor(crm: CrmId, message: string, vendorCode: string | null, httpStatus: number | null) {
    super(crm, 'auth_expired', message, vendorCode, httpStatus);
  }
}

/** The CRM is down or failed transiently (5xx, network); retry with backoff. */
export class CrmUnavailableError extends CrmError {
  override readonly name = 'CrmUnavailableError';
  constructor(crm: CrmId, message: string, vendorCode: string | null, httpStatus: number | null) {
    super(crm, 'unavailable', message, vendorCode, httpStatus);
  }
}

/** The record does not exist (or was deleted/merged). */
export class CrmNotFoundError extends CrmError {
  override readonly name = 'CrmNotFoundError';
  constructor(
    crm: CrmId,
    message: string,
    vendorCode: string | null = null,
    httpStatus: number | null = 404,
  ) {
    super(crm, 'not_found', message, vendorCode, httpStatus);
  }
}

/** The connected user lacks a scope or permission; an admin must act. */
export class CrmPermissionError extends CrmError {
  override readonly name = 'CrmPermissionError';
  constructor(crm: CrmId, message: string, vendorCode: string | null, httpStatus: number | null) {
    super(crm, 'forbidden', message, vendorCode, httpStatus);
  }
}

/** The CRM rejected what we sent (bad field, bad id, missing schema); retrying won't help. */
export class CrmRequestError extends CrmError {
  override readonly name = 'CrmRequestError';
}
