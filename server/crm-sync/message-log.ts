import type { ContactRef, CrmMessage, CrmMessageStatus } from '../../crm-plugins/types.ts';
import type { Database } from '../db/database.ts';
import { openBodies } from '../stores/message-bodies.ts';
import type { CrmConnection } from './connections.ts';
import type { ContactRefs } from './contact-refs.ts';
import type { CrmCall } from './live-plugins.ts';
import { type JobRow, STATUS_SEP, type SyncJobs } from './sync-jobs.ts';

export interface MessageLogOptions {
  db: Database;
  jobs: SyncJobs;
  refs: ContactRefs;
  /** Messages per appendMessages call; the plugin splits it into vendor batches (100 / 200). */
  maxBatch: number;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

interface MessageInfo {
  id: string;
  org_id: string;
  body_key: number | null;
  direction: 'inbound' | 'outbound';
  body: string;
  status: string;
  created_at: Date;
  from_e164: string;
  to_e164: string;
  crm: string | null;
  crm_object: 'contact' | 'lead' | null;
  crm_id: string | null;
  unknown_inbound: string | null;
}

const MESSAGE_COLUMNS = `m.id, m.org_id, m.direction, m.body, m.body_key, m.status, m.created_at, m.from_e164, m.to_e164,
  c.crm, c.crm_object, c.crm_id`;

/** Which record a number's entries go on, per pass (null: none), so a busy number is looked up once. */
type RefCache = Map<string, ContactRef | null>;

/**
 * Each message on the CRM timeline of its contact: queued log jobs become batched appendMessages
 * calls (the plugins deduplicate by message id, so a retried batch never logs twice), and later
 * delivery outcomes (status jobs, `<id>#<status>`) are written onto the entries already logged.
 */
export class MessageLog {
  constructor(private readonly options: MessageLogOptions) {}

  /** Runs a bounded number of rounds per lease, so other connections get their turn. */
  async dispatch(connection: CrmConnection, call: CrmCall, stopped: () => boolean): Promise<void> {
    for (let round = 0; round < 20 && !stopped(); round++) {
      const claimed = await this.options.jobs.claim(connection, ['message'], this.options.maxBatch);
      if (claimed.length === 0) return;
      const logJobs = claimed.filter((j) => !j.subject.includes(STATUS_SEP));
      const statusJobs = claimed.filter((j) => j.subject.includes(STATUS_SEP));
      if (logJobs.length > 0) await this.append(connection, call, logJobs);
      if (statusJobs.length > 0) await this.updateStatuses(connection, call, statusJobs, logJobs);
    }
  }

  private async append(connection: CrmConnection, call: CrmCall, claimed: JobRow[]): Promise<void> {
    const { db, jobs } = this.options;
    const rows = await db.query<MessageInfo>(
      `SELECT ${MESSAGE_COLUMNS}, o.settings #>> '{crm,unknownInbound}' AS unknown_inbound
         FROM messages m JOIN conversations v ON v.id = m.conversation_id
         LEFT JOIN contacts c ON c.id = v.contact_id JOIN orgs o ON o.id = m.org_id
        WHERE m.id = ANY($1::uuid[]) AND m.org_id = $2`,
      [claimed.map((j) => j.subject), connection.orgId],
    );
    await openBodies(db, rows);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const skipped: number[] = [];
    const batch: CrmMessage[] = [];
    const jobOf = new Map<string, JobRow>();
    const cache: RefCache = new Map();
    for (const job of claimed) {
      const m = byId.get(job.subject);
      const ref = m === undefined ? null : await this.recordFor(connection, call, m, cache, true);
      if (m === undefined || ref === null) {
        skipped.push(job.id);
        continue;
      }
      jobOf.set(m.id, job);
      batch.push(timelineEntry(m, ref));
    }
    await jobs.finish(skipped, 'no CRM record to log on');
    if (batch.length === 0) return;
    const result = await call((p) => p.appendMessages(batch));
    await jobs.finish(jobIds(jobOf, [...result.created, ...result.alreadyLogged]));
    for (const failure of result.failed) {
      const job = jobOf.get(failure.externalKey);
      if (job !== undefined) await jobs.fail(connection, job, failure);
    }
  }

  /**
   * The record a message goes on: its contact's, else the number's first CRM record; an unknown
   * inbound number gets a new contact when the org asks for it (`crm.unknownInbound: create`).
   */
  private async recordFor(
    connection: CrmConnection,
    call: CrmCall,
    m: MessageInfo,
    cache: RefCache,
    mayCreate: boolean,
  ): Promise<ContactRef | null> {
    if (m.crm === connection.crm && m.crm_object !== null && m.crm_id !== null)
      return { crm: connection.crm, objectType: m.crm_object, id: m.crm_id };
    const phone = customerPhone(m);
    if (!cache.has(phone))
      cache.set(phone, (await this.options.refs.forPhone(connection, call, phone))[0] ?? null);
    const found = cache.get(phone) ?? null;
    if (found !== null || !mayCreate || m.direction !== 'inbound' || m.unknown_inbound !== 'create')
      return found;
    const created = await call((p) => p.createContact({ phoneE164: phone, name: null }));
    await this.options.refs.remember(connection, [phone], [created.ref]);
    cache.set(phone, created.ref);
    this.options.log(
      'info',
      `CRM ${connection.crm}: created ${created.ref.objectType} ${created.ref.id} for an unknown inbound number`,
    );
    return created.ref;
  }

  /**
   * Writes later delivery outcomes onto entries already logged. A message whose log job is still
   * queued (or ran in this same claim) gets its current status with the entry; one being logged
   * by another process is tried again shortly; one never logged has nothing to update.
   */
  private async updateStatuses(
    connection: CrmConnection,
    call: CrmCall,
    statusJobs: JobRow[],
    logJobsNow: JobRow[],
  ): Promise<void> {
    const { jobs } = this.options;
    const { covered, nothing, later, pending } = await this.sortStatusJobs(
      connection,
      statusJobs,
      logJobsNow,
    );
    await jobs.finish(covered, 'status logged with the entry');
    await jobs.finish(nothing, 'not on the CRM timeline');
    await jobs.retrySoon(later);
    if (pending.length === 0) return;
    const jobOf = new Map(pending.map((job) => [messageIdOf(job), job]));
    const messages = await this.entriesOf(connection, call, [...jobOf.keys()]);
    const keys = new Set(messages.map((m) => m.externalKey));
    await jobs.finish(
      pending.filter((j) => !keys.has(messageIdOf(j))).map((j) => j.id),
      'not on the CRM timeline',
    );
    if (messages.length === 0) return;
    const result = await call((p) => p.updateMessages(messages));
    await jobs.finish(jobIds(jobOf, result.updated));
    await jobs.finish(jobIds(jobOf, result.notLogged), 'not on the CRM timeline');
    for (const failure of result.failed) {
      const job = jobOf.get(failure.externalKey);
      if (job !== undefined) await jobs.fail(connection, job, failure);
    }
  }

  /** Status jobs by what their message's log job says: covered by it, nothing to update, wait, or update now. */
  private async sortStatusJobs(connection: CrmConnection, statusJobs: JobRow[], logJobsNow: JobRow[]) {
    const loggedNow = new Set(logJobsNow.map((j) => j.subject));
    const logRows = await this.options.db.query<{ subject: string; state: string; note: string | null }>(
      `SELECT subject, state, note FROM crm_sync_jobs WHERE connection_id = $1 AND kind = 'message' AND subject = ANY($2::text[])`,
      [connection.id, statusJobs.map(messageIdOf)],
    );
    const logOf = new Map(logRows.map((r) => [r.subject, r]));
    const sorted = {
      covered: [] as number[],
      nothing: [] as number[],
      later: [] as number[],
      pending: [] as JobRow[],
    };
    for (const job of statusJobs) {
      const id = messageIdOf(job);
      const log = logOf.get(id);
      if (loggedNow.has(id) || log?.state === 'queued') sorted.covered.push(job.id);
      else if (log?.state === 'working') sorted.later.push(job.id);
      else if (log === undefined || log.state !== 'done' || log.note !== null) sorted.nothing.push(job.id);
      else sorted.pending.push(job);
    }
    return sorted;
  }

  /** These messages as timeline entries, on the records they were logged on. */
  private async entriesOf(connection: CrmConnection, call: CrmCall, ids: string[]): Promise<CrmMessage[]> {
    const rows = await this.options.db.query<MessageInfo>(
      `SELECT ${MESSAGE_COLUMNS}, NULL AS unknown_inbound
         FROM messages m JOIN conversations v ON v.id = m.conversation_id
         LEFT JOIN contacts c ON c.id = v.contact_id
        WHERE m.id = ANY($1::uuid[]) AND m.org_id = $2`,
      [ids, connection.orgId],
    );
    await openBodies(this.options.db, rows);
    const out: CrmMessage[] = [];
    const cache: RefCache = new Map();
    for (const m of rows) {
      const ref = await this.recordFor(connection, call, m, cache, false);
      if (ref !== null) out.push(timelineEntry(m, ref));
    }
    return out;
  }
}

function messageIdOf(job: JobRow): string {
  return job.subject.slice(0, job.subject.indexOf(STATUS_SEP));
}

function jobIds(jobOf: Map<string, JobRow>, keys: readonly string[]): number[] {
  return keys.flatMap((key) => {
    const job = jobOf.get(key);
    return job === undefined ? [] : [job.id];
  });
}

function customerPhone(m: MessageInfo): string {
  return m.direction === 'inbound' ? m.from_e164 : m.to_e164;
}

function timelineEntry(m: MessageInfo, ref: ContactRef): CrmMessage {
  return {
    externalKey: m.id,
    contact: ref,
    direction: m.direction,
    body: m.body,
    occurredAt: m.created_at,
    customerPhone: customerPhone(m),
    status: messageStatus(m),
  };
}

/** The delivery status an outbound entry shows (null for inbound, or before the hand-over). */
function messageStatus(m: MessageInfo): CrmMessageStatus | null {
  if (m.direction !== 'outbound') return null;
  return ['sent', 'delivered', 'undelivered', 'failed'].includes(m.status)
    ? (m.status as CrmMessageStatus)
    : null;
}
