import type { Queryable } from '../../server/db/database.ts';
import { openEvidence } from '../../server/stores/consent-evidence.ts';
import { openBodies, openEventPayload } from '../../server/stores/message-bodies.ts';

/**
 * Every message the relay stored, its text opened (texts are sealed at rest, so a test that
 * searched the column itself would find nothing and pass for the wrong reason).
 */
export async function storedMessages(
  db: Queryable,
): Promise<{ id: string; org_id: string; body: string; purpose: string; direction: string }[]> {
  const rows = await db.query<{
    id: string;
    org_id: string;
    body: string;
    body_key: number | null;
    purpose: string;
    direction: string;
  }>(
    'SELECT id::text AS id, org_id::text AS org_id, body, body_key, purpose, direction FROM messages ORDER BY created_at, id',
  );
  return openBodies(db, rows);
}

/** Every live event's payload, its message's text opened. */
export async function storedEventPayloads(db: Queryable): Promise<unknown[]> {
  const rows = await db.query<{ org_id: string; payload: unknown }>(
    'SELECT org_id::text AS org_id, payload FROM events ORDER BY tx_id, id',
  );
  const payloads: unknown[] = [];
  for (const r of rows) payloads.push(await openEventPayload(db, r.org_id, r.payload));
  return payloads;
}

/** Every consent ledger entry's evidence, opened. */
export async function storedEvidence(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ id: string; org_id: string; evidence: string; evidence_key: number | null }>(
    'SELECT id::text AS id, org_id::text AS org_id, evidence, evidence_key FROM consent_events ORDER BY id',
  );
  const out: string[] = [];
  for (const r of rows) out.push(await openEvidence(db, r.org_id, r.id, r.evidence, r.evidence_key));
  return out;
}

/** Tables of the simulated outside world, not of the relay: the sandbox's handsets and mailbox. */
const OUTSIDE_WORLD = new Set(['sandbox_sms', 'sandbox_mail']);

/** Every row of every table of the relay, as text: what a database dump would hold. */
export async function databaseDump(db: Queryable): Promise<string> {
  const tables = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const parts: string[] = [];
  for (const { name } of tables) {
    if (OUTSIDE_WORLD.has(name)) continue;
    const rows = await db.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${name}" t`);
    parts.push(...rows.map((r) => `${name}: ${r.row}`));
  }
  return parts.join('\n');
}
