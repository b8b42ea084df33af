import { openJson, resolveSecretsKey, type SecretsKey, sealJson } from '../crypto/secrets.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';

/** A Stripe account as `cli payments connect stripe` stores it (sealed with SECRETS_KEY). */
export interface StripeConnection {
  secretKey: string;
  webhookSecrets: string[];
  apiUrl: string | null;
}

const CONTEXT = 'payment_provider_connections:stripe';

/** rk_live_…abcd: enough to recognise the key, never enough to use it. */
export const keyHint = (key: string): string => `${key.slice(0, 8)}…${key.slice(-4)}`;

/** The key and secrets in the shapes Stripe issues them, or a clear refusal naming the flag. */
export function checkedStripeCredentials(key: string, secrets: string): { key: string; secrets: string[] } {
  if (!/^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}$/.test(key))
    throw new ApiError(
      400,
      'INVALID_STRIPE_KEY',
      '--restricted-key must be a Stripe restricted key (rk_live_…, rk_test_…) or secret key (sk_…).',
    );
  const list = secrets.split(',').map((s) => s.trim());
  if (list.length === 0 || list.some((s) => !/^whsec_[A-Za-z0-9_+/=]{8,}$/.test(s)))
    throw new ApiError(
      400,
      'INVALID_WEBHOOK_SECRET',
      '--webhook-secret must be the whsec_… signing secret of the webhook endpoint (several, comma-separated, while rotating).',
    );
  return { key, secrets: list };
}

export async function saveStripeConnection(
  db: Queryable,
  sealKey: SecretsKey,
  connection: StripeConnection,
  meta: { livemode: boolean; at: Date; by: string },
): Promise<void> {
  await db.query(
    `INSERT INTO payment_provider_connections (provider, sealed, key_hint, livemode, connected_at, connected_by)
     VALUES ('stripe', $1, $2, $3, $4, $5)
     ON CONFLICT (provider) DO UPDATE SET sealed = $1, key_hint = $2, livemode = $3, connected_at = $4, connected_by = $5`,
    [sealJson(sealKey, connection, CONTEXT), keyHint(connection.secretKey), meta.livemode, meta.at, meta.by],
  );
}

export interface StoredStripe {
  keyHint: string;
  livemode: boolean;
  connectedAt: Date;
  connectedBy: string;
  sealed: string;
}

export async function storedStripe(db: Queryable): Promise<StoredStripe | null> {
  const [row] = await db.query<{
    key_hint: string;
    livemode: boolean;
    connected_at: Date;
    connected_by: string;
    sealed: string;
  }>(
    `SELECT key_hint, livemode, connected_at, connected_by, sealed FROM payment_provider_connections WHERE provider = 'stripe'`,
  );
  return row === undefined
    ? null
    : {
        keyHint: row.key_hint,
        livemode: row.livemode,
        connectedAt: row.connected_at,
        connectedBy: row.connected_by,
        sealed: row.sealed,
      };
}

/** The stored account opened with the installation's key, or null when none is connected. */
export async function openStripeConnection(
  db: Queryable,
  secrets: { configured: Buffer | null; sandbox: boolean },
): Promise<StripeConnection | null> {
  const stored = await storedStripe(db);
  if (stored === null) return null;
  const key = await resolveSecretsKey(db, { ...secrets, readOnly: true });
  if (key === null)
    throw new Error(
      'A Stripe account is connected but SECRETS_KEY is not set: the relay cannot open its key.',
    );
  return openJson(key, stored.sealed, CONTEXT) as StripeConnection;
}
