import { ApiError } from '../errors.ts';
import type { Principal } from '../http/access.ts';

/**
 * Refuses a new send by a person whose sending an anomaly alert paused (org setting
 * anomaly.pauseRep), until an admin resolves the alert. Read with the credential itself, so it
 * costs the send path no query.
 */
export function requireSendingAllowed(p: Principal): void {
  const since = p.sendingPausedAt ?? null;
  if (since === null) return;
  throw new ApiError(
    423,
    'SENDING_PAUSED',
    `Your sending is paused since ${since.toISOString()}: an alert found unusual sending from your account. An admin reviews it and resumes your sending.`,
    { pausedAt: since.toISOString(), resolveAt: '/v1/alerts' },
  );
}
