import { SSO_ORG_ID } from '../messages/extension-messages.ts';
import { isRecord } from '../validate.ts';
import { TOKEN } from './session.ts';
import { SSO_LINK_TOKEN } from './sso-tab.ts';

/** How long a started sign-in may wait for the identity provider. */
export const SSO_PENDING_TTL_MS = 10 * 60_000;
/** How long trading the one-time code may take before the attempt counts as lost. */
export const SSO_EXCHANGE_TTL_MS = 60_000;

/** The `browser.storage.session` key holding the current attempt; the options page watches it. */
export const SSO_STATE_KEY = 'ssoSignIn';

/** Why an attempt ended without a session. */
export type SsoCancelReason = 'tab-closed' | 'expired' | 'cancelled';

/** The attempt as stored under `SSO_STATE_KEY`. `attemptId` lets a page tell its own attempt from older ones. */
export type SsoState =
  | {
      status: 'pending' | 'exchanging';
      attemptId: string;
      relayUrl: string;
      orgId: string;
      tabId: number;
      /** The tab that asked (the options page), focused again when the sign-in tab closes. */
      openerTabId: number | null;
      /** Epoch milliseconds. */
      startedAt: number;
      /** When the code exchange began (status 'exchanging'); a worker that died mid-exchange leaves it. */
      exchangingSince?: number;
    }
  | { status: 'signed-in'; attemptId: string; email: string; at: number }
  /**
   * The identity provider named an account that has its own password (or second factor) and is not
   * linked to it yet: the options page asks for the password once and links it with `linkToken`.
   */
  | (SsoLinkStep & { status: 'not-linked'; attemptId: string; at: number })
  /** The relay wants the account's second factor before it opens the session (`POST /v1/auth/mfa`). */
  | (SsoSecondFactorStep & { status: 'mfa-required'; attemptId: string; at: number })
  | { status: 'failed'; attemptId: string; message: string; at: number }
  | { status: 'cancelled'; attemptId: string; reason: SsoCancelReason; at: number };

/** What the options page needs to link an account: a relay-issued token, valid 10 minutes, single use. */
export interface SsoLinkStep {
  relayUrl: string;
  orgId: string;
  linkToken: string;
}

/** What the options page needs to finish an SSO sign-in with the second factor. */
export interface SsoSecondFactorStep {
  relayUrl: string;
  orgId: string;
  /** The account, when the relay named it (it always does when it asks for a second factor). */
  email: string | null;
  mfaToken: string;
  /** The factors the account has, as the relay lists them ('totp', 'passkey'). */
  factors: string[];
}

export type ActiveSsoState = Extract<SsoState, { status: 'pending' | 'exchanging' }>;

export function isActive(state: SsoState | null): state is ActiveSsoState {
  return state?.status === 'pending' || state?.status === 'exchanging';
}

/** Whether an active attempt has outlived `SSO_PENDING_TTL_MS` (a clock that went backwards counts too). */
export function isSsoExpired(state: ActiveSsoState, now: number): boolean {
  // An exchange takes seconds; one still "exchanging" a minute later died with its worker.
  if (state.status === 'exchanging' && state.exchangingSince !== undefined) {
    if (now - state.exchangingSince >= SSO_EXCHANGE_TTL_MS) return true;
  }
  return now - state.startedAt >= SSO_PENDING_TTL_MS || now < state.startedAt - 60_000;
}

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 100;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isTabId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The stored attempt, or null when there is none or it does not have one of the shapes. */
export function parseSsoState(value: unknown): SsoState | null {
  if (!isRecord(value) || !isId(value.attemptId)) return null;
  const { attemptId } = value;
  switch (value.status) {
    case 'pending':
    case 'exchanging': {
      const { relayUrl, orgId, tabId, openerTabId, startedAt, exchangingSince } = value;
      if (typeof relayUrl !== 'string' || typeof orgId !== 'string' || !SSO_ORG_ID.test(orgId)) return null;
      if (!isTabId(tabId) || !isTime(startedAt)) return null;
      if (openerTabId !== null && !isTabId(openerTabId)) return null;
      if (exchangingSince !== undefined && !isTime(exchangingSince)) return null;
      return {
        status: value.status,
        attemptId,
        relayUrl,
        orgId,
        tabId,
        openerTabId,
        startedAt,
        ...(exchangingSince === undefined ? {} : { exchangingSince }),
      };
    }
    case 'signed-in':
      if (typeof value.email !== 'string' || !isTime(value.at)) return null;
      return { status: 'signed-in', attemptId, email: value.email, at: value.at };
    case 'not-linked': {
      const { relayUrl, orgId, linkToken } = value;
      if (typeof relayUrl !== 'string' || typeof orgId !== 'string' || !SSO_ORG_ID.test(orgId)) return null;
      if (typeof linkToken !== 'string' || !SSO_LINK_TOKEN.test(linkToken) || !isTime(value.at)) return null;
      return { status: 'not-linked', attemptId, relayUrl, orgId, linkToken, at: value.at };
    }
    case 'mfa-required': {
      const { relayUrl, orgId, email, mfaToken, factors } = value;
      if (typeof relayUrl !== 'string' || typeof orgId !== 'string' || !SSO_ORG_ID.test(orgId)) return null;
      if (email !== null && typeof email !== 'string') return null;
      if (typeof mfaToken !== 'string' || !TOKEN.test(mfaToken) || !isTime(value.at)) return null;
      if (!Array.isArray(factors) || !factors.every((f) => typeof f === 'string')) return null;
      return {
        status: 'mfa-required',
        attemptId,
        relayUrl,
        orgId,
        email,
        mfaToken,
        factors: factors as string[],
        at: value.at,
      };
    }
    case 'failed':
      if (typeof value.message !== 'string' || !isTime(value.at)) return null;
      return { status: 'failed', attemptId, message: value.message, at: value.at };
    case 'cancelled': {
      const { reason } = value;
      if (reason !== 'tab-closed' && reason !== 'expired' && reason !== 'cancelled') return null;
      if (!isTime(value.at)) return null;
      return { status: 'cancelled', attemptId, reason, at: value.at };
    }
    default:
      return null;
  }
}
