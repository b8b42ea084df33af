import type { Queryable } from '../db/database.ts';
import { type ChainBreak, chainWalker, type StoredEntry } from './audit-chain.ts';

/** One org's verdict: how many entries were checked, and the first break if any. */
export interface OrgVerdict {
  orgId: string;
  entries: number;
  headHash: string | null;
  broken: ChainBreak | null;
}

/** An audit_log row as the driver returns it. */
export interface AuditRow {
  org_id: string;
  seq: number | string;
  actor: string;
  actor_name: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  occurred_at: Date | string;
  before: unknown;
  after: unknown;
  detail: unknown;
  ip: string | null;
  prev_hash: string;
  hash: string;
}

const PAGE = 1000;

/** The orgs to verify: the one asked for, else every org that has a chain head or an entry. */
export async function auditedOrgs(db: Queryable, orgId?: string): Promise<string[]> {
  if (orgId !== undefined) return [orgId];
  const rows = await db.query<{ org_id: string }>(
    `SELECT org_id FROM audit_chain_heads UNION SELECT DISTINCT org_id FROM audit_log ORDER BY org_id`,
  );
  return rows.map((r) => r.org_id);
}

/** Walks one org's chain from its genesis, a page at a time, and reports the first bad entry. */
export async function verifyOrgChain(db: Queryable, orgId: string): Promise<OrgVerdict> {
  const [row] = await db.query<{ last_seq: number | string; last_hash: string }>(
    'SELECT last_seq, last_hash FROM audit_chain_heads WHERE org_id = $1',
    [orgId],
  );
  const head = row === undefined ? null : { lastSeq: Number(row.last_seq), lastHash: row.last_hash };
  const walker = chainWalker(orgId, head);
  let entries = 0;
  let after: [number, string] = [-1, ''];
  for (;;) {
    // Keyed on (seq, hash), so a duplicated sequence number still reads as two rows.
    const rows = await db.query<AuditRow>(
      `SELECT * FROM audit_log WHERE org_id = $1 AND (seq, hash) > ($2, $3) ORDER BY seq, hash LIMIT $4`,
      [orgId, after[0], after[1], PAGE],
    );
    for (const r of rows) {
      entries += 1;
      const broken = walker.next(toStored(r));
      if (broken !== null) return { orgId, entries, headHash: head?.lastHash ?? null, broken };
    }
    const last = rows[rows.length - 1];
    if (last === undefined || rows.length < PAGE) break;
    after = [Number(last.seq), last.hash];
  }
  return { orgId, entries, headHash: head?.lastHash ?? null, broken: walker.finish() };
}

function toStored(r: AuditRow): StoredEntry {
  return {
    orgId: r.org_id,
    seq: Number(r.seq),
    actor: r.actor,
    actorName: r.actor_name,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    occurredAt: new Date(r.occurred_at),
    before: r.before,
    after: r.after,
    detail: r.detail,
    ip: r.ip,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
