import { ApiError } from '../errors.ts';
import type { Principal } from '../http/access.ts';
import { policyStanding } from '../policy/texting-policy.ts';

/** Why a person's texting policy acknowledgement does not count, as they read it. */
const POLICY_REASONS = {
  never: 'You have not yet acknowledged your organisation’s texting policy.',
  changed: 'Your organisation changed its texting policy since you acknowledged it.',
  yearly: 'A year has passed since you acknowledged your organisation’s texting policy.',
} as const;

/**
 * Refuses a new send by a person whose sending an anomaly alert paused (org setting
 * anomaly.pauseRep), until an admin resolves the alert; and, where the org requires it, by a person
 * who has not acknowledged the current texting policy within a year (issue #17, item 6). Both are
 * read with the credential itself, so they cost the send path no query.
 */
export function requireSendingAllowed(p: Principal, now: Date): void {
  const since = p.sendingPausedAt ?? null;
  if (since !== null)
    throw new ApiError(
      423,
      'SENDING_PAUSED',
      `Your sending is paused since ${since.toISOString()}: an alert found unusual sending from your account. An admin reviews it and resumes your sending.`,
      { pausedAt: since.toISOString(), resolveAt: '/v1/alerts' },
    );
  const policy = p.policy ?? null;
  if (policy === null) return;
  const standing = policyStanding(policy, now);
  if (standing === 'current') return;
  throw new ApiError(
    403,
    'POLICY_NOT_ACKNOWLEDGED',
    `${POLICY_REASONS[standing]} Read it and acknowledge it (it takes a minute), then send again.`,
    { reason: standing, version: policy.version, policy: '/v1/policy', readAt: '/admin#/policy' },
  );
}
