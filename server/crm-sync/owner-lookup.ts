import type { CrmContact } from '../../crm-plugins/types.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { activeUsersByEmail, finishOwnerRouting, type OwnerRoutingOutcome } from '../inbox/routing.ts';
import { phoneNumber } from '../stores/phone-columns.ts';
import type { CrmConnection } from './connections.ts';
import type { ContactRefs } from './contact-refs.ts';
import type { CrmCall } from './live-plugins.ts';
import { itemFailure, type JobRow, type SyncJobs } from './sync-jobs.ts';

export interface OwnerLookupOptions {
  db: Database;
  jobs: SyncJobs;
  refs: ContactRefs;
  clock: Clock;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

interface Waiting {
  contact_phone: string;
  owner_routed_at: Date | null;
  crm: string | null;
  crm_object: 'contact' | 'lead' | null;
  crm_id: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Jobs claimed per round: each is one CRM read. */
const ROUND = 20;

/**
 * Finds the CRM owner of a customer's first text (routing.ts queued an 'owner' job per connected
 * CRM) and routes the conversation to the org's active user with the owner's email. The record is
 * the conversation's linked contact, else the records with its number; records of different owners
 * are ambiguous and fall back. A CRM refusing the lookup falls back at once, so the text never
 * waits on a dead letter; throttling or an expired token returns the job to the queue, and the
 * sweep falls back after two minutes.
 */
export class OwnerLookup {
  constructor(private readonly options: OwnerLookupOptions) {}

  async dispatch(connection: CrmConnection, call: CrmCall, stopped: () => boolean): Promise<void> {
    for (let round = 0; round < 10 && !stopped(); round++) {
      const claimed = await this.options.jobs.claim(connection, ['owner'], ROUND);
      if (claimed.length === 0) return;
      for (const job of claimed) await this.route(connection, call, job);
    }
  }

  private async route(connection: CrmConnection, call: CrmCall, job: JobRow): Promise<void> {
    const { db, jobs } = this.options;
    const waiting = UUID.test(job.subject)
      ? (
          await db.query<Waiting>(
            `SELECT v.contact_phone, v.owner_routed_at, c.crm, c.crm_object, c.crm_id
               FROM conversations v LEFT JOIN contacts c ON c.id = v.contact_id AND c.org_id = v.org_id
              WHERE v.id = $1 AND v.org_id = $2`,
            [job.subject, connection.orgId],
          )
        ).map((w) => ({ ...w, contact_phone: phoneNumber(db, w.contact_phone) }))[0]
      : undefined;
    if (waiting === undefined || waiting.owner_routed_at !== null) {
      await jobs.finish(
        [job.id],
        waiting === undefined ? 'no such conversation in this organisation' : 'already routed',
      );
      return;
    }
    let contacts: CrmContact[];
    try {
      contacts = await this.recordsOf(connection, call, waiting);
    } catch (error) {
      const failure = itemFailure(error);
      if (failure === null) throw error;
      const outcome = await this.finish(connection, job, null);
      await jobs.finish([job.id], `owner lookup failed (${failure.code}: ${failure.message}); ${outcome}`);
      return;
    }
    const emails = [
      ...new Set(contacts.map((c) => c.ownerEmail?.trim().toLowerCase() ?? '').filter((e) => e !== '')),
    ];
    const users = await activeUsersByEmail(db, connection.orgId, emails);
    const owner = users.length === 1 ? (users[0] ?? null) : null;
    const outcome = await this.finish(connection, job, owner);
    await jobs.finish([job.id], `${ownerNote(contacts.length, emails.length, users.length)}; ${outcome}`);
  }

  /** The conversation's linked record of this CRM, else every record with its number. */
  private async recordsOf(connection: CrmConnection, call: CrmCall, waiting: Waiting): Promise<CrmContact[]> {
    if (waiting.crm === connection.crm && waiting.crm_object !== null && waiting.crm_id !== null) {
      const ref = { crm: connection.crm, objectType: waiting.crm_object, id: waiting.crm_id };
      const found = await call((p) => p.findContactById(ref));
      return found === null ? [] : [found];
    }
    const found = await call((p) => p.findContactsByPhone(waiting.contact_phone));
    if (found.length > 0)
      await this.options.refs.remember(
        connection,
        [waiting.contact_phone],
        found.map((c) => c.ref),
      );
    return found;
  }

  private finish(
    connection: CrmConnection,
    job: JobRow,
    ownerUserId: string | null,
  ): Promise<OwnerRoutingOutcome> {
    return this.options.db.transaction((tx) =>
      finishOwnerRouting(tx, {
        orgId: connection.orgId,
        conversationId: job.subject,
        ownerUserId,
        now: this.options.clock(),
        jobId: job.id,
      }),
    );
  }
}

/** What the lookup found, for the job's note (the sync status and dead-letter views show it). */
function ownerNote(records: number, owners: number, users: number): string {
  if (records === 0) return 'no CRM record with this number';
  if (owners === 0) return 'the CRM record has no owner';
  if (users === 0) return 'the owner is not an active user here';
  if (users > 1) return 'records of different owners';
  return 'owner found';
}
