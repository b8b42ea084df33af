import { isRecord, ShapeError } from '../validate.ts';
import { TOKEN } from './session.ts';

// The relay's answers to the sign-in endpoints, parsed at the boundary.

/** The session tokens a login, second factor or refresh issues. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  /** The org lets the session be kept across browser restarts (false unless the relay says so). */
  keepSignedIn: boolean;
}

/** A password login's answer: a session, or the second factor it still needs. */
export type LoginOutcome = { kind: 'tokens'; tokens: IssuedTokens } | { kind: 'mfa'; mfaToken: string };

/** The SSO code exchange's answer: the usual tokens, plus the account's email when the relay sends it. */
export interface SsoTokens extends IssuedTokens {
  email: string | null;
}

/** The exchange's answer: a session, or (account with a second factor) the step that still needs it. */
export type SsoExchange =
  | { kind: 'tokens'; tokens: SsoTokens }
  | { kind: 'mfa'; mfaToken: string; factors: string[]; email: string | null };

/** What `POST /v1/sso/saml/link` answers: linked, not signed in (the next SSO sign-in opens the session). */
export interface SsoLinked {
  email: string;
}

/** The token body of login, mfa and refresh answers. */
export function parseIssuedTokens(value: unknown): IssuedTokens {
  if (!isRecord(value)) throw new ShapeError('tokens', 'an object');
  const { accessToken, refreshToken, accessTokenExpiresAt } = value;
  if (typeof accessToken !== 'string' || !TOKEN.test(accessToken))
    throw new ShapeError('accessToken', 'a token');
  if (typeof refreshToken !== 'string' || !TOKEN.test(refreshToken))
    throw new ShapeError('refreshToken', 'a token');
  const expiresAt = typeof accessTokenExpiresAt === 'string' ? Date.parse(accessTokenExpiresAt) : Number.NaN;
  if (!Number.isFinite(expiresAt)) throw new ShapeError('accessTokenExpiresAt', 'an ISO date');
  // Only an explicit "not required" keeps the session: a relay that does not say asks for no more.
  const keepSignedIn = value.requireSignInEachBrowserSession === false;
  return { accessToken, refreshToken, expiresAt, keepSignedIn };
}

const EMAIL = /^[^\s@]{1,200}@[^\s@]{1,200}$/;

/** The answer of `POST /v1/sso/saml/exchange`: the login token body, `email` optional (older relays omit it). */
export function parseSsoTokens(value: unknown): SsoTokens {
  return { ...parseIssuedTokens(value), email: emailOf(value) };
}

function emailOf(value: unknown): string | null {
  const email = isRecord(value) && typeof value.email === 'string' ? value.email.trim() : '';
  return EMAIL.test(email) ? email : null;
}

/** The answer of `POST /v1/sso/saml/exchange`, including the second-factor step a password sign-in has. */
export function parseSsoExchange(value: unknown): SsoExchange {
  if (isRecord(value) && value.mfaRequired === true) {
    const { mfaToken, factors } = value;
    if (typeof mfaToken !== 'string' || !TOKEN.test(mfaToken)) throw new ShapeError('mfaToken', 'a token');
    const known = Array.isArray(factors) ? factors.filter((f): f is string => typeof f === 'string') : [];
    return { kind: 'mfa', mfaToken, factors: known, email: emailOf(value) };
  }
  return { kind: 'tokens', tokens: parseSsoTokens(value) };
}

/** The answer of `POST /v1/sso/saml/link`. */
export function parseSsoLinked(value: unknown): SsoLinked {
  if (!isRecord(value) || value.linked !== true) throw new ShapeError('linked', 'true');
  const email = emailOf(value);
  if (email === null) throw new ShapeError('email', 'an email address');
  return { email };
}

export function parseLoginOutcome(value: unknown): LoginOutcome {
  if (isRecord(value) && value.mfaRequired === true) {
    const { mfaToken } = value;
    if (typeof mfaToken !== 'string' || !TOKEN.test(mfaToken)) throw new ShapeError('mfaToken', 'a token');
    return { kind: 'mfa', mfaToken };
  }
  return { kind: 'tokens', tokens: parseIssuedTokens(value) };
}
