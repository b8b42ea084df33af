import type { Config } from '../config.ts';
import { open, resolveSecretsKey, SecretsError, type SecretsKey, seal } from '../crypto/secrets.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { matchTotp } from './totp.ts';
import type { UserRow } from './users.ts';

/**
 * TOTP secrets at rest: sealed with the installation's secrets key (SECRETS_KEY, or the sandbox's
 * generated key), bound to the user (`totp:<userId>`) so a blob copied to another user does not
 * open. Rows written before sealing hold the base32 secret itself (never a ":"); they still
 * work and are re-sealed the next time they are used.
 */
export class TotpSecrets {
  #key: Promise<SecretsKey | null> | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly config: Pick<Config, 'secretsKey' | 'smsProvider'>,
  ) {}

  async #requireKey(): Promise<SecretsKey> {
    this.#key ??= resolveSecretsKey(this.db, {
      configured: this.config.secretsKey,
      sandbox: this.config.smsProvider === 'sandbox',
    }).catch((error: unknown) => {
      this.#key = null;
      throw error;
    });
    const key = await this.#key;
    if (key === null) {
      throw new ApiError(
        503,
        'SECRETS_KEY_REQUIRED',
        'Second factors are stored encrypted: the operator must set SECRETS_KEY (32 random bytes, base64).',
      );
    }
    return key;
  }

  /**
   * Opens the secrets key before a transaction needs it: on PGlite (one connection) reading or
   * generating the key inside another transaction would wait for that transaction forever.
   */
  async ready(): Promise<void> {
    await this.#requireKey();
  }

  async seal(userId: string, secret: string): Promise<string> {
    return seal(await this.#requireKey(), secret, `totp:${userId}`);
  }

  /**
   * The secret, and whether the row still holds it in plaintext (to be re-sealed); null when it
   * does not open (another user's blob, tampered, or sealed with another SECRETS_KEY).
   */
  async open(userId: string, stored: string): Promise<{ secret: string; plaintext: boolean } | null> {
    if (!stored.includes(':')) return { secret: stored, plaintext: true };
    const key = await this.#requireKey();
    try {
      return { secret: open(key, stored, `totp:${userId}`), plaintext: false };
    } catch (error) {
      if (error instanceof SecretsError) return null;
      throw error;
    }
  }
}

/**
 * Checks a user's authenticator code and burns its time step, so the same code never works twice
 * (sign-in and re-authentication alike). The caller holds the user's row lock. Returns whether the
 * code was right; a secret that no longer opens is logged and counts as a wrong code.
 */
export async function redeemTotpCode(
  tx: Queryable,
  secrets: TotpSecrets,
  user: Pick<UserRow, 'id' | 'totp_secret' | 'totp_last_step'>,
  code: string,
  now: Date,
  log: { warn(details: object, message: string): void },
): Promise<boolean> {
  if (user.totp_secret === null) return false;
  const stored = await secrets.open(user.id, user.totp_secret);
  if (stored === null) {
    log.warn({ userId: user.id }, 'TOTP secret does not open (SECRETS_KEY changed?)');
    return false;
  }
  const last = user.totp_last_step === null ? null : Number(user.totp_last_step);
  const step = matchTotp(stored.secret, code, now, last);
  if (step === null) return false;
  await tx.query('UPDATE users SET totp_last_step = $2 WHERE id = $1', [user.id, step]);
  // A secret stored before sealing is sealed on its first use.
  if (stored.plaintext)
    await tx.query('UPDATE users SET totp_secret = $2 WHERE id = $1', [
      user.id,
      await secrets.seal(user.id, stored.secret),
    ]);
  return true;
}
