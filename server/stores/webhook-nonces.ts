import type { Queryable } from '../db/database.ts';

/** The nonces of verified provider webhooks: a replay of one is refused. */

/** Remembers a webhook's nonce; false when it was already seen (a replay). */
export async function rememberWebhookNonce(db: Queryable, provider: string, nonce: string): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO webhook_nonces (provider, nonce) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
    [provider, nonce],
  );
  return rows.length > 0;
}

/** Forgets nonces older than the replay window. */
export async function forgetWebhookNoncesOlderThan(db: Queryable, hours: number): Promise<void> {
  await db.query(`DELETE FROM webhook_nonces WHERE received_at < now() - ($1::int * interval '1 hour')`, [
    hours,
  ]);
}
