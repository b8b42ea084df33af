import type { Config } from '../config.ts';
import { open, resolveSecretsKey, SecretsError, type SecretsKey, seal } from '../crypto/secrets.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';

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
