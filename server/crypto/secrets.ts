/**
 * Secrets at rest: AES-256-GCM with a 32-byte key from SECRETS_KEY (base64). Each value is sealed
 * with a fresh 96-bit IV and bound to its context (e.g. `crm_connection:<org>:<crm>`) as
 * additional data, so a sealed blob copied to another row does not open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/database.ts';

// Parsing lives apart so config.ts stays pure; re-exported for the existing importers.
import { parseSecretsKey } from './secrets-key-format.ts';

export { parseSecretsKey };

const VERSION = 'v1';

/** A key able to seal and open; `id` names it in every blob so a wrong key is reported as such. */
export interface SecretsKey {
  readonly id: string;
  readonly bytes: Buffer;
}

export class SecretsError extends Error {
  override readonly name = 'SecretsError';
}

export function secretsKey(bytes: Buffer): SecretsKey {
  if (bytes.length !== 32) throw new SecretsError('a secrets key is 32 bytes');
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 8), bytes };
}

/**
 * Master keys SECRETS_KEY replaced (SECRETS_KEY_PREVIOUS), by id: open() falls back to the one a
 * blob names, so what they sealed still opens until `keys rotate` re-seals it (server/crypto/rewrap.ts).
 * Process configuration, like SECRETS_KEY itself.
 */
const PREVIOUS = new Map<string, SecretsKey>();

export function acceptPreviousKeys(keys: readonly Buffer[]): void {
  for (const bytes of keys) {
    const key = secretsKey(bytes);
    PREVIOUS.set(key.id, key);
  }
}

/** The id a sealed blob names (null when it is not one). */
export function sealedKeyId(sealed: string): string | null {
  const [version, keyId, payload] = sealed.split(':');
  return version === VERSION && keyId !== undefined && payload !== undefined ? keyId : null;
}

/** Seals a UTF-8 value: `v1:<key id>:<base64(iv ‖ tag ‖ ciphertext)>`. */
export function seal(key: SecretsKey, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}:${key.id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

/** Opens what seal() made with the same key and context; throws SecretsError otherwise. */
export function open(key: SecretsKey, sealed: string, context: string): string {
  const [version, keyId, payload] = sealed.split(':');
  if (version !== VERSION || keyId === undefined || payload === undefined)
    throw new SecretsError('not a sealed secret');
  const opener = keyId === key.id ? key : PREVIOUS.get(keyId);
  if (opener === undefined)
    throw new SecretsError(`sealed with another key (${keyId}); SECRETS_KEY is ${key.id}`);
  const raw = Buffer.from(payload, 'base64');
  if (raw.length < 28) throw new SecretsError('sealed secret is truncated');
  const decipher = createDecipheriv('aes-256-gcm', opener.bytes, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretsError('sealed secret failed authentication (tampered, or another context)');
  }
}

/** Seals a JSON value. */
export const sealJson = (key: SecretsKey, value: unknown, context: string): string =>
  seal(key, JSON.stringify(value), context);

export function openJson(key: SecretsKey, sealed: string, context: string): unknown {
  return JSON.parse(open(key, sealed, context)) as unknown;
}

/**
 * The installation's secrets key: SECRETS_KEY when set. In sandbox mode without it, a key is
 * generated once and kept in `instance_secrets` — convenient for a laptop, but then a database
 * dump holds the key next to what it protects, so `warn` says so at every start. Outside the
 * sandbox there is no fallback: null, and CRM connections cannot be used.
 */
export async function resolveSecretsKey(
  db: Queryable,
  options: {
    configured: Buffer | null;
    sandbox: boolean;
    warn?: (message: string) => void;
    /** Only read a sandbox key that exists (request paths never create one). */
    readOnly?: boolean;
  },
): Promise<SecretsKey | null> {
  if (options.configured !== null) return secretsKey(options.configured);
  if (!options.sandbox) return null;
  if (options.readOnly !== true)
    await db.query(
      `INSERT INTO instance_secrets (name, value) VALUES ('secrets_key', $1) ON CONFLICT (name) DO NOTHING`,
      [randomBytes(32).toString('base64')],
    );
  const rows = await db.query<{ value: string }>(
    `SELECT value FROM instance_secrets WHERE name = 'secrets_key'`,
  );
  const bytes = parseSecretsKey(rows[0]?.value ?? '');
  if (bytes === null) throw new SecretsError('instance secret secrets_key is damaged');
  options.warn?.(
    'SECRETS_KEY is not set: CRM tokens are encrypted with a key generated for this sandbox and stored in the ' +
      'same database. Set SECRETS_KEY (32 random bytes, base64) before connecting a real CRM.',
  );
  return secretsKey(bytes);
}
