import { isRecord } from '../validate.ts';

/**
 * A signed-in session as kept in `browser.storage.session` (never on disk). Bound to the relay it was
 * issued by, so changing the relay URL does not send these tokens elsewhere. Only its refresh token,
 * sealed, may outlive the browser session (`session-vault.ts`), and only when `keepSignedIn`.
 */
export interface AuthSession {
  relayUrl: string;
  email: string;
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** The org lets this session survive a browser restart; absent (an older relay) counts as no. */
  keepSignedIn?: boolean;
}

/** Where the session lives; the browser implementation is in `settings.ts`, tests use memory. */
export interface SessionStore {
  get(): Promise<AuthSession | null>;
  set(session: AuthSession): Promise<void>;
  /** Removes the session; 'expired' (refresh refused) also leaves a note so the panel says why. */
  clear(reason: 'signed-out' | 'expired'): Promise<void>;
}

/** A token's shape as the relay issues it (access, refresh and second-factor tokens alike). */
export const TOKEN = /^[\x21-\x7e]{1,512}$/;

/** A stored session, or null when anything is off (so a corrupt value reads as signed out). */
export function parseAuthSession(value: unknown): AuthSession | null {
  const session = parseSessionWithoutRefresh(value);
  if (session === null || !isRecord(value)) return null;
  const { refreshToken } = value;
  if (typeof refreshToken !== 'string' || !TOKEN.test(refreshToken)) return null;
  return { ...session, refreshToken, keepSignedIn: value.keepSignedIn === true };
}

/** A session's fields but the refresh token (the panel's view of it), or null when anything is off. */
export function parseSessionWithoutRefresh(value: unknown): Omit<AuthSession, 'refreshToken'> | null {
  if (!isRecord(value)) return null;
  const { relayUrl, email, accessToken, expiresAt } = value;
  if (typeof relayUrl !== 'string' || typeof email !== 'string') return null;
  if (typeof accessToken !== 'string' || !TOKEN.test(accessToken)) return null;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return null;
  return { relayUrl, email, accessToken, expiresAt };
}
