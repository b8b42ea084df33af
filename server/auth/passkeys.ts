import { createHmac, randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import type { Queryable } from '../db/database.ts';
import { newId } from '../ids.ts';

/** WebAuthn challenges are single-use and live this long. */
export const CHALLENGE_TTL_MS = 5 * 60_000;

export type ChallengePurpose = 'register' | 'second_factor' | 'passwordless';

export interface RelyingParty {
  /** The hostname of PUBLIC_URL: the scope passkeys are bound to. */
  rpID: string;
  rpName: string;
  /** The origin browsers report in clientDataJSON. */
  origin: string;
}

export function relyingParty(config: Pick<Config, 'publicUrl'>): RelyingParty {
  const url = new URL(config.publicUrl);
  return { rpID: url.hostname, rpName: 'CRM Texting', origin: url.origin };
}

export interface PasskeyRow {
  id: string;
  org_id: string;
  user_id: string;
  credential_id: string;
  public_key: Uint8Array;
  counter: string | number;
  transports: string[];
  device_type: string | null;
  backed_up: boolean;
  created_at: Date;
  last_used_at: Date | null;
}

export function passkeyDto(p: PasskeyRow) {
  return {
    id: p.id,
    credentialId: p.credential_id,
    transports: p.transports,
    deviceType: p.device_type,
    backedUp: p.backed_up,
    createdAt: new Date(p.created_at).toISOString(),
    lastUsedAt: p.last_used_at === null ? null : new Date(p.last_used_at).toISOString(),
  };
}

export async function hasPasskey(db: Queryable, userId: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM passkeys WHERE user_id = $1 LIMIT 1', [userId]);
  return rows.length > 0;
}

export async function userPasskeys(db: Queryable, userId: string): Promise<PasskeyRow[]> {
  return db.query<PasskeyRow>('SELECT * FROM passkeys WHERE user_id = $1 ORDER BY created_at, id', [userId]);
}

/** Credentials as the browser's allowCredentials lists them. */
export interface AllowedCredential {
  id: string;
  transports: string[];
}

/** How a decoy looks: one platform passkey that can also be used from a phone. */
const DECOY_TRANSPORTS = ['internal', 'hybrid'];

/** The installation's decoy key (migration 018); it never changes, so one read per process is enough. */
export async function passkeyDecoyKey(db: Queryable): Promise<Buffer> {
  const rows = await db.query<{ value: string }>(
    `SELECT value FROM instance_secrets WHERE name = 'passkey_decoy_key'`,
  );
  const value = rows[0]?.value;
  if (value === undefined || value.length < 32)
    throw new Error('instance secret passkey_decoy_key is missing');
  return Buffer.from(value, 'utf8');
}

/**
 * The credential named for an email that has no usable passkey: derived from the email with the
 * installation's key, so it is the same on every ask and from every relay process, like a real
 * account's, and no authenticator holds it. Otherwise an empty list would say "no such account".
 */
export function decoyCredentials(key: Buffer, email: string): AllowedCredential[] {
  const id = createHmac('sha256', key).update(`passkey-decoy:${email.toLowerCase()}`).digest('base64url');
  return [{ id, transports: DECOY_TRANSPORTS }];
}

export const newChallenge = (): string => randomBytes(32).toString('base64url');

export async function storeChallenge(
  db: Queryable,
  input: { challenge: string; purpose: ChallengePurpose; userId: string | null; now: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO webauthn_challenges (challenge, purpose, user_id, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [
      input.challenge,
      input.purpose,
      input.userId,
      input.now,
      new Date(input.now.getTime() + CHALLENGE_TTL_MS),
    ],
  );
}

/**
 * Uses a challenge once: true if it was issued for this purpose (and user, when given), unused
 * and unexpired. A failed verification afterwards still burns it.
 */
export async function consumeChallenge(
  db: Queryable,
  input: { challenge: string; purpose: ChallengePurpose; userId: string | null; now: Date },
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE webauthn_challenges SET used_at = $4
      WHERE challenge = $1 AND purpose = $2 AND user_id IS NOT DISTINCT FROM $3::uuid
        AND used_at IS NULL AND expires_at > $4
      RETURNING challenge`,
    [input.challenge, input.purpose, input.userId, input.now],
  );
  return rows.length > 0;
}

/** The challenge a client says it signed (from clientDataJSON), or null if it cannot be read. */
export function clientChallenge(clientDataJSON: string): string | null {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as unknown;
    const challenge = (data as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === 'string' && /^[A-Za-z0-9_-]{16,200}$/.test(challenge) ? challenge : null;
  } catch {
    return null;
  }
}

/**
 * Records a verified use: the counter only moves forward (0 stays 0 for authenticators without
 * one). False if another request got there first with the same or a higher counter.
 */
export async function advanceCounter(
  db: Queryable,
  passkeyId: string,
  newCounter: number,
  now: Date,
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE passkeys SET counter = $2, last_used_at = $3
      WHERE id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0))
      RETURNING id`,
    [passkeyId, newCounter, now],
  );
  return rows.length > 0;
}

/** The passkeys of the active account with this address, as allowCredentials lists them. */
export async function passkeysForEmail(db: Queryable, email: string): Promise<PasskeyRow[]> {
  return db.query<PasskeyRow>(
    `SELECT p.* FROM passkeys p JOIN users u ON u.id = p.user_id
      WHERE u.email = $1 AND u.status = 'active' ORDER BY p.created_at, p.id`,
    [email],
  );
}

/** The passkey with this credential id (of this user, when given), locked for the transaction. */
export async function lockPasskey(
  tx: Queryable,
  credentialId: string,
  userId?: string,
): Promise<PasskeyRow | null> {
  const rows = await tx.query<PasskeyRow>(
    'SELECT * FROM passkeys WHERE credential_id = $1 AND ($2::uuid IS NULL OR user_id = $2) FOR UPDATE',
    [credentialId, userId ?? null],
  );
  return rows[0] ?? null;
}

/** Stores a verified new passkey; false when its credential id is registered already. */
export async function insertPasskey(
  tx: Queryable,
  input: {
    orgId: string;
    userId: string;
    credentialId: string;
    publicKey: Uint8Array;
    counter: number;
    transports: string[];
    deviceType: string;
    backedUp: boolean;
  },
  now: Date,
): Promise<PasskeyRow | null> {
  const taken = await tx.query('SELECT 1 FROM passkeys WHERE credential_id = $1', [input.credentialId]);
  if (taken.length > 0) return null;
  const [row] = await tx.query<PasskeyRow>(
    `INSERT INTO passkeys (id, org_id, user_id, credential_id, public_key, counter, transports, device_type, backed_up, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [
      newId(),
      input.orgId,
      input.userId,
      input.credentialId,
      Buffer.from(input.publicKey),
      input.counter,
      input.transports,
      input.deviceType,
      input.backedUp,
      now,
    ],
  );
  return row ?? null;
}

/** Deletes one of the user's passkeys; false when they have none with this id. */
export async function deletePasskey(tx: Queryable, id: string, userId: string): Promise<boolean> {
  const rows = await tx.query('DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING id', [
    id,
    userId,
  ]);
  return rows.length > 0;
}

/** What second factors a user has left, and whether their org requires one. */
export async function secondFactorsLeft(
  tx: Queryable,
  userId: string,
): Promise<{ settings: unknown; totp: boolean; passkeys: number } | null> {
  const [left] = await tx.query<{ settings: unknown; totp: boolean; passkeys: number }>(
    `SELECT o.settings, u.totp_enabled_at IS NOT NULL AS totp,
            (SELECT count(*)::int FROM passkeys WHERE user_id = u.id) AS passkeys
       FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = $1`,
    [userId],
  );
  return left ?? null;
}
