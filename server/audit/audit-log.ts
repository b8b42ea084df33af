import { type Queryable, withinTransaction } from '../db/database.ts';
import { type ChainedFields, entryHash, genesisHash } from './audit-chain.ts';

/** A stable dotted name of an audited action, e.g. `user.role_changed`. */
export type AuditAction = string;

/** One action to record; the time comes from the relay's clock, never the database's. */
export interface AuditEntryInput {
  orgId: string;
  /** `user:<id>`, `api-key:<id>`, `cli`, `system` (or another fixed word such as `saml`). */
  actor: string;
  action: AuditAction;
  target?: { type: string; id: string } | null;
  at: Date;
  before?: unknown;
  after?: unknown;
  detail?: Record<string, unknown>;
  ip?: string | null;
}

/**
 * Appends one entry to the org's chain. Given an open transaction it appends inside it, so the
 * entry commits or rolls back with the action it records; given the database it opens its own.
 * The org's chain-head row is locked first, so concurrent appends queue instead of forking.
 */
export async function appendAudit(db: Queryable, entry: AuditEntryInput): Promise<number> {
  return withinTransaction(db, (tx) => appendInTransaction(tx, entry));
}

async function appendInTransaction(tx: Queryable, entry: AuditEntryInput): Promise<number> {
  await tx.query(
    `INSERT INTO audit_chain_heads (org_id, last_seq, last_hash) VALUES ($1, 0, $2) ON CONFLICT (org_id) DO NOTHING`,
    [entry.orgId, genesisHash(entry.orgId)],
  );
  const [head] = await tx.query<{ last_seq: number | string; last_hash: string }>(
    'SELECT last_seq, last_hash FROM audit_chain_heads WHERE org_id = $1 FOR UPDATE',
    [entry.orgId],
  );
  if (head === undefined) throw new Error(`audit chain head of org ${entry.orgId} vanished`);
  const fields: ChainedFields = {
    orgId: entry.orgId,
    seq: Number(head.last_seq) + 1,
    actor: entry.actor,
    actorName: await actorNameOf(tx, entry.orgId, entry.actor),
    action: entry.action,
    targetType: entry.target?.type ?? null,
    targetId: entry.target?.id ?? null,
    // Stored as timestamptz (microseconds); a Date has milliseconds, so it survives the round trip.
    occurredAt: entry.at,
    // Through JSON once, as jsonb will keep it: undefined members and non-JSON values drop out here too.
    before: jsonRoundTrip(entry.before),
    after: jsonRoundTrip(entry.after),
    detail: jsonRoundTrip(entry.detail) ?? {},
    ip: entry.ip ?? null,
  };
  const hash = entryHash(fields, head.last_hash);
  await tx.query(
    `INSERT INTO audit_log (org_id, seq, actor, actor_name, action, target_type, target_id, occurred_at,
                            before, after, detail, ip, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      fields.orgId,
      fields.seq,
      fields.actor,
      fields.actorName,
      fields.action,
      fields.targetType,
      fields.targetId,
      fields.occurredAt,
      fields.before === null ? null : JSON.stringify(fields.before),
      fields.after === null ? null : JSON.stringify(fields.after),
      JSON.stringify(fields.detail),
      fields.ip,
      head.last_hash,
      hash,
    ],
  );
  await tx.query('UPDATE audit_chain_heads SET last_seq = $2, last_hash = $3 WHERE org_id = $1', [
    entry.orgId,
    fields.seq,
    hash,
  ]);
  return fields.seq;
}

function jsonRoundTrip(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/**
 * The actor's readable name at the time of the action, kept in the entry so it still reads
 * right after the user is renamed or removed.
 */
async function actorNameOf(tx: Queryable, orgId: string, actor: string): Promise<string> {
  if (actor === 'cli') return 'an operator (command line)';
  if (actor === 'system') return 'the relay';
  if (actor === 'customer') return 'the customer';
  let found: string | null = null;
  if (actor.startsWith('user:')) {
    const [row] = await tx.query<{ name: string | null }>(
      `SELECT COALESCE(NULLIF(display_name, ''), email) AS name FROM users WHERE org_id = $1 AND id::text = $2`,
      [orgId, actor.slice(5)],
    );
    found = row?.name ?? null;
  } else if (actor.startsWith('api-key:')) {
    const [row] = await tx.query<{ name: string | null }>(
      `SELECT COALESCE(NULLIF(u.display_name, ''), u.email, k.name) AS name
         FROM api_keys k LEFT JOIN users u ON u.id = k.user_id
        WHERE k.org_id = $1 AND k.id::text = $2`,
      [orgId, actor.slice(8)],
    );
    found = row?.name ?? null;
  }
  if (found !== null && found.trim() !== '') return found;
  if (actor.startsWith('user:')) return `a removed user (${actor.slice(5, 13)})`;
  if (actor.startsWith('api-key:')) return `an unnamed API key (${actor.slice(8, 16)})`;
  return actor;
}
