import type { Database, Queryable } from '../db/database.ts';
import { updateStatus } from '../stores/messages.ts';
import { phoneToken } from '../stores/phone-columns.ts';

/**
 * Delivery reports (status callbacks) from the SMS network: applied to the message they name, or
 * kept until the provider id is recorded when one beats the outbox worker's commit.
 */

/** Plivo delivery statuses mapped onto ours; anything unknown is kept raw and left unchanged. */
export function mapProviderStatus(status: string): 'sent' | 'delivered' | 'undelivered' | 'failed' | null {
  switch (status) {
    case 'sent':
      return 'sent';
    case 'delivered':
      return 'delivered';
    case 'undelivered':
      return 'undelivered';
    case 'failed':
    case 'rejected':
      return 'failed';
    default:
      return null;
  }
}

export interface StatusCallback {
  provider: string;
  providerMessageId: string;
  status: string;
  errorCode: string | null;
  sequence: number | null;
  units?: number | null;
  cost?: string | null;
}

/**
 * One transaction at a time per provider message id. Without it, on PostgreSQL a callback could
 * look for its message just before the worker's commit recorded the id, while the worker looked
 * for kept callbacks just before the callback's commit kept it: each missed the other and the
 * report was lost. Whichever waits here sees what the other committed.
 */
async function lockProviderMessage(
  tx: Queryable,
  provider: string,
  providerMessageId: string,
): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
    `provider-message:${provider}:${providerMessageId}`,
  ]);
}

/** Applies one callback to a known message in the caller's transaction. */
async function applyToMessage(
  tx: Queryable,
  row: { id: string; provider_sequence: number | null },
  input: StatusCallback,
): Promise<'applied' | 'stale' | 'ignored'> {
  if (input.sequence !== null && row.provider_sequence !== null && input.sequence <= row.provider_sequence)
    return 'stale';
  const mapped = mapProviderStatus(input.status);
  if (input.units != null || input.cost != null) {
    await tx.query(
      'UPDATE messages SET provider_units = coalesce($2, provider_units), provider_cost = coalesce($3::numeric, provider_cost) WHERE id = $1',
      [row.id, input.units ?? null, input.cost ?? null],
    );
  }
  if (mapped === null) return 'ignored';
  const failed = mapped === 'failed' || mapped === 'undelivered';
  await updateStatus(tx, row.id, {
    status: mapped,
    errorCode: failed && input.errorCode !== null ? input.errorCode : null,
    errorMessage: failed ? describeErrorCode(input.errorCode) : null,
    providerSequence: input.sequence,
    detail: `provider status ${input.status}${input.errorCode === null ? '' : ` (${input.errorCode})`}`,
  });
  return 'applied';
}

/**
 * Applies a provider status callback; stale (lower Sequence) callbacks change nothing, and a
 * callback for a message we do not know (yet) is kept for reconciliation instead of dropped.
 */
export async function applyStatusCallback(
  db: Database,
  input: StatusCallback,
  raw: Record<string, string> = {},
  before?: (tx: Queryable) => Promise<void>,
): Promise<'applied' | 'stale' | 'unknown_message' | 'ignored'> {
  return db.transaction(async (tx) => {
    await before?.(tx);
    await lockProviderMessage(tx, input.provider, input.providerMessageId);
    const rows = await tx.query<{ id: string; provider_sequence: number | null }>(
      `SELECT id, provider_sequence FROM messages WHERE provider = $1 AND provider_message_id = $2 FOR UPDATE`,
      [input.provider, input.providerMessageId],
    );
    const row = rows[0];
    if (row === undefined) {
      await tx.query(
        `INSERT INTO unmatched_status_callbacks (provider, provider_message_id, status, error_code, sequence, params)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          input.provider,
          input.providerMessageId,
          input.status,
          input.errorCode,
          input.sequence,
          JSON.stringify(withoutNumbers(tx, raw)),
        ],
      );
      return 'unknown_message';
    }
    return applyToMessage(tx, row, input);
  });
}

/**
 * Records that the provider accepted a message under its id, then applies the callbacks that beat
 * this commit, in the caller's transaction.
 */
export async function recordAcceptance(
  tx: Queryable,
  input: { provider: string; messageId: string; providerMessageId: string },
): Promise<void> {
  await lockProviderMessage(tx, input.provider, input.providerMessageId);
  await updateStatus(tx, input.messageId, {
    status: 'sent',
    providerMessageId: input.providerMessageId,
    detail: `accepted by ${input.provider}`,
  });
  await applyPendingCallbacks(tx, input.provider, input.providerMessageId);
}

/** Applies, in Sequence order, callbacks that arrived before the provider id was recorded. */
async function applyPendingCallbacks(
  tx: Queryable,
  provider: string,
  providerMessageId: string,
): Promise<number> {
  const pending = await tx.query<{
    id: number;
    status: string;
    error_code: string | null;
    sequence: number | null;
  }>(
    `SELECT id, status, error_code, sequence FROM unmatched_status_callbacks
      WHERE provider = $1 AND provider_message_id = $2 AND applied_at IS NULL
      ORDER BY sequence NULLS FIRST, id FOR UPDATE`,
    [provider, providerMessageId],
  );
  if (pending.length === 0) return 0;
  for (const callback of pending) {
    const rows = await tx.query<{ id: string; provider_sequence: number | null }>(
      'SELECT id, provider_sequence FROM messages WHERE provider = $1 AND provider_message_id = $2',
      [provider, providerMessageId],
    );
    const row = rows[0];
    if (row === undefined) return 0;
    await applyToMessage(tx, row, {
      provider,
      providerMessageId,
      status: callback.status,
      errorCode: callback.error_code,
      sequence: callback.sequence,
    });
    await tx.query('UPDATE unmatched_status_callbacks SET applied_at = now() WHERE id = $1', [callback.id]);
  }
  return pending.length;
}

/** Plivo ErrorCode in words a rep understands. */
export function describeErrorCode(code: string | null): string {
  switch (code) {
    case '10':
      return 'The carrier said the message was invalid.';
    case '20':
      return 'A network error stopped delivery; it may work later.';
    case '30':
      return 'The carrier flagged the message as spam.';
    case '40':
      return 'The carrier refused our sender number.';
    case '50':
      return 'The phone number cannot receive texts (invalid destination).';
    default:
      return code === null || code === '000' ? 'Delivery failed.' : `Delivery failed (carrier code ${code}).`;
  }
}

/** A provider's raw callback as kept for matching later: its To and From as tokens (phone-tokens.ts). */
function withoutNumbers(q: Queryable, raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  return Object.fromEntries(
    Object.entries(raw).map(([key, value]) =>
      /^(to|from)$/i.test(key) && typeof value === 'string' && value !== ''
        ? [key, phoneToken(q, value)]
        : [key, value],
    ),
  );
}
