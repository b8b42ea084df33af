import { appendAudit } from '../audit/audit-log.ts';
import { STATUS_SEP } from '../crm-sync/sync-jobs.ts';
import type { Database, Queryable } from '../db/database.ts';
import { requireOrg } from '../organisations/org-admin.ts';
import {
  beginPurgeBatch,
  countKept,
  countPurge,
  deleteEmptyConversations,
  deleteMessages,
  pickDeletions,
  purgeBodies,
} from './purge-queries.ts';
import { type RetentionPolicy, readRetentionPolicy } from './retention-settings.ts';

/** What one run removed (or, in a dry run, would remove) in one org. */
export interface RetentionReport {
  orgId: string;
  dryRun: boolean;
  policy: RetentionPolicy;
  /** The cutoffs of the relay's clock the run judged by (null: that part of the policy is off). */
  bodyCutoff: string | null;
  metadataCutoff: string | null;
  bodiesPurged: number;
  messagesDeleted: number;
  statusEventsDeleted: number;
  outboxJobsDeleted: number;
  liveEventsDeleted: number;
  conversationsDeleted: number;
  /** Messages the policy reaches that an active legal hold keeps whole. */
  heldSkipped: number;
  /** Messages the policy reaches that consent records or exceptions cite, kept as their evidence. */
  consentEvidenceKept: number;
  /** CRM timeline entries queued for rewriting without their purged body (purgeCrmCopy). */
  crmUpdatesQueued: number;
  batches: number;
}

export interface RetentionRunOptions {
  orgId: string;
  /** The relay's clock's now (server/clock.ts): the cutoffs and the audit entry are judged by it. */
  now: Date;
  dryRun: boolean;
  /** Who ran it, for the audit entry: `cli`, `system` (the worker) or a principal's actor. */
  actor: string;
  /** Rows per transaction; a batch holds its row locks only this long, so sends never wait on a purge. */
  batchSize?: number;
  /** A line per batch for long runs. */
  progress?: (line: string) => void;
}

export const DEFAULT_BATCH_SIZE = 1000;
const DAY_MS = 86_400_000;

const cutoff = (now: Date, days: number | null) =>
  days === null ? null : new Date(now.getTime() - days * DAY_MS);

/** Runs (or dry-runs) the org's retention policy; a real run appends one `retention.run` audit entry. */
export async function runRetention(db: Database, options: RetentionRunOptions): Promise<RetentionReport> {
  await requireOrg(db, options.orgId);
  const policy = await readRetentionPolicy(db, options.orgId);
  const cutoffs = {
    body: cutoff(options.now, policy.messageBodyDays),
    metadata: cutoff(options.now, policy.metadataDays),
  };
  const kept = await countKept(db, options.orgId, cutoffs);
  const report: RetentionReport = {
    orgId: options.orgId,
    dryRun: options.dryRun,
    policy,
    bodyCutoff: cutoffs.body?.toISOString() ?? null,
    metadataCutoff: cutoffs.metadata?.toISOString() ?? null,
    bodiesPurged: 0,
    messagesDeleted: 0,
    statusEventsDeleted: 0,
    outboxJobsDeleted: 0,
    liveEventsDeleted: 0,
    conversationsDeleted: 0,
    heldSkipped: kept.held,
    consentEvidenceKept: kept.evidence,
    crmUpdatesQueued: 0,
    batches: 0,
  };
  if (options.dryRun) {
    const would = await countPurge(db, options.orgId, cutoffs);
    return {
      ...report,
      bodiesPurged: would.bodies,
      messagesDeleted: would.messages,
      statusEventsDeleted: would.statusEvents,
      outboxJobsDeleted: would.outboxJobs,
      conversationsDeleted: would.conversations,
    };
  }
  if (cutoffs.metadata !== null) await deleteAged(db, options, cutoffs.metadata, report);
  if (cutoffs.body !== null) await blankAged(db, options, cutoffs.body, report);
  await appendAudit(db, {
    orgId: options.orgId,
    actor: options.actor,
    action: 'retention.run',
    target: { type: 'org', id: options.orgId },
    at: options.now,
    detail: { ...report, policy: { ...policy } },
  });
  return report;
}

/** Deletes aged messages, then conversations left empty, in bounded batches (one transaction each). */
async function deleteAged(db: Database, o: RetentionRunOptions, before: Date, report: RetentionReport) {
  const limit = o.batchSize ?? DEFAULT_BATCH_SIZE;
  for (;;) {
    const done = await db.transaction(async (tx) => {
      await beginPurgeBatch(tx, o.orgId);
      const picked = await pickDeletions(tx, o.orgId, before, limit);
      if (picked.length === 0) return true;
      const n = await deleteMessages(tx, o.orgId, picked);
      report.messagesDeleted += n.messages;
      report.statusEventsDeleted += n.statusEvents;
      report.outboxJobsDeleted += n.outboxJobs;
      report.liveEventsDeleted += n.events;
      return picked.length < limit;
    });
    report.batches += 1;
    o.progress?.(`deleted ${report.messagesDeleted} messages so far`);
    if (done) break;
  }
  for (;;) {
    const n = await db.transaction(async (tx) => {
      await beginPurgeBatch(tx, o.orgId);
      return deleteEmptyConversations(tx, o.orgId, before, limit);
    });
    report.conversationsDeleted += n;
    report.batches += 1;
    if (n < limit) break;
    o.progress?.(`deleted ${report.conversationsDeleted} empty conversations so far`);
  }
}

/** Blanks aged bodies in bounded batches; with purgeCrmCopy, queues the CRM entries' rewrite in the same transaction. */
async function blankAged(db: Database, o: RetentionRunOptions, before: Date, report: RetentionReport) {
  const limit = o.batchSize ?? DEFAULT_BATCH_SIZE;
  for (;;) {
    const count = await db.transaction(async (tx) => {
      await beginPurgeBatch(tx, o.orgId);
      const ids = await purgeBodies(tx, o.orgId, before, limit, o.now);
      if (report.policy.purgeCrmCopy) report.crmUpdatesQueued += await queueCrmRewrites(tx, o.orgId, ids);
      report.bodiesPurged += ids.length;
      return ids.length;
    });
    report.batches += 1;
    o.progress?.(`purged ${report.bodiesPurged} message bodies so far`);
    if (count < limit) break;
  }
}

/**
 * The CRM sync layer's own "rewrite a logged entry" job (a message job `<id>#<status>`, which
 * calls updateMessages with the message as it now is): the entry's body becomes the purged one.
 * Entries never logged are finished by the worker as "not on the CRM timeline".
 */
async function queueCrmRewrites(tx: Queryable, orgId: string, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await tx.query(
    `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject)
     SELECT c.id, c.org_id, 'message', m || $3 FROM crm_connections c, unnest($2::text[]) AS m
      WHERE c.org_id = $1 AND c.status <> 'disconnected'
     ON CONFLICT (connection_id, subject) WHERE kind = 'message' DO NOTHING RETURNING 1`,
    [orgId, ids, `${STATUS_SEP}body_purged`],
  );
  return rows.length;
}

/** The orgs that have a retention policy (the worker runs only these). */
export async function orgsWithPolicy(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT id FROM orgs WHERE jsonb_typeof(settings->'retention') = 'object' ORDER BY id`,
  );
  return rows.map((r) => r.id);
}
