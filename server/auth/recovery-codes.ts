import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import { sha256 } from '../ids.ts';

/** How many recovery codes an authenticator enrolment hands out. */
export const RECOVERY_CODES = 10;

function newRecoveryCode(): string {
  const raw = randomBytes(8).toString('hex');
  return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}-${raw.slice(12)}`;
}

/** Codes are compared without case, dashes or spaces, however the user typed them. */
const normalizeRecovery = (code: string) => code.toLowerCase().replace(/[^0-9a-f]/g, '');

/** Replaces the user's recovery codes with fresh ones (stored hashed); returns them in plain text, once. */
export async function replaceRecoveryCodes(tx: Queryable, userId: string): Promise<string[]> {
  await tx.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
  const fresh = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
  for (const c of fresh)
    await tx.query('INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)', [
      userId,
      sha256(normalizeRecovery(c)),
    ]);
  return fresh;
}

/** Uses one of the user's unused recovery codes; false when it is unknown or used. */
export async function redeemRecoveryCode(
  tx: Queryable,
  userId: string,
  code: string,
  now: Date,
): Promise<boolean> {
  const used = await tx.query(
    `UPDATE recovery_codes SET used_at = $3
      WHERE id = (SELECT id FROM recovery_codes WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL LIMIT 1)
      RETURNING id`,
    [userId, sha256(normalizeRecovery(code)), now],
  );
  return used.length > 0;
}
