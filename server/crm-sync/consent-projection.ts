import { CrmNotFoundError } from '../../crm-plugins/errors.ts';
import type { ConsentChange, ContactRef } from '../../crm-plugins/types.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { currentConsent } from '../stores/consent-store.ts';
import { phoneNumber } from '../stores/phone-columns.ts';
import type { CrmConnection } from './connections.ts';
import type { ContactRefs } from './contact-refs.ts';
import { knownPhonesOf, recordCrmOptOut } from './crm-optout.ts';
import type { CrmCall } from './live-plugins.ts';
import { itemFailure, type SyncJobs } from './sync-jobs.ts';

export interface ConsentSyncOptions {
  db: Database;
  jobs: SyncJobs;
  refs: ContactRefs;
  /** The relay's clock (server/clock.ts): when a CRM-side opt-out is recorded in the ledger. */
  clock: Clock;
  /** How often each CRM is asked for opt-outs made there. */
  consentPollMs: number;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/**
 * Consent both ways between the relay's ledger and a CRM: the ledger's derived status is projected
 * onto every CRM record with the number; opt-outs made in the CRM (polled, or pushed by HubSpot's
 * webhook) are recorded in the ledger. Only opt-outs flow back: a CRM field saying "opted in" is
 * no evidence of consent.
 */
export class ConsentSync {
  constructor(private readonly options: ConsentSyncOptions) {}

  /** Runs the connection's queued consent and CRM-opt-out jobs, consent before any message. */
  async dispatch(connection: CrmConnection, call: CrmCall): Promise<void> {
    const { jobs } = this.options;
    for (;;) {
      const claimed = await jobs.claim(connection, ['consent', 'crm_optout'], 50);
      if (claimed.length === 0) return;
      for (const job of claimed) {
        try {
          const note =
            job.kind === 'consent'
              ? // A consent job's subject is the number's token (sync-feed.ts): the CRM is given the number.
                await this.projectPhone(connection, call, phoneNumber(this.options.db, job.subject))
              : await this.importCrmOptOut(connection, call, job.subject);
          await jobs.finish([job.id], note);
        } catch (error) {
          const failure = itemFailure(error);
          if (failure === null) throw error;
          await jobs.fail(connection, job, failure);
        }
      }
    }
  }

  /** Projects a phone's derived consent onto every CRM record with that number. */
  private async projectPhone(
    connection: CrmConnection,
    call: CrmCall,
    phone: string,
  ): Promise<string | null> {
    const { db, refs, clock } = this.options;
    const consent = await currentConsent(db, connection.orgId, phone);
    if (consent.status === 'unknown') return 'no consent recorded';
    const records = await refs.forPhone(connection, call, phone);
    if (records.length === 0) return 'no CRM record has this number';
    for (const ref of records) {
      try {
        await call((p) =>
          p.projectConsent(ref, {
            status: consent.status,
            updatedAt: consent.since ?? clock(),
            source: consent.source ?? 'relay',
          }),
        );
      } catch (error) {
        if (!(error instanceof CrmNotFoundError)) throw error;
        await refs.forget(connection, ref);
      }
    }
    return null;
  }

  /** A CRM-side opt-out (HubSpot webhook) on a record the relay did not know: look it up, then record it. */
  private async importCrmOptOut(
    connection: CrmConnection,
    call: CrmCall,
    subject: string,
  ): Promise<string | null> {
    const [objectType, id] = subject.split(':', 2) as [string, string | undefined];
    if ((objectType !== 'contact' && objectType !== 'lead') || id === undefined) return 'malformed subject';
    const ref: ContactRef = { crm: connection.crm, objectType, id };
    const contact = await call((p) => p.findContactById(ref));
    if (contact === null || contact.phones.length === 0) return 'record gone or without a number';
    await this.options.refs.remember(connection, contact.phones, [ref]);
    await recordCrmOptOut(this.options.db, {
      orgId: connection.orgId,
      ref,
      phones: contact.phones,
      changedAt: this.options.clock(),
      now: this.options.clock(),
      via: 'webhook',
    });
    return null;
  }

  /** When due, asks the CRM for consent edited there and records the opt-outs among them. */
  async poll(connection: CrmConnection, call: CrmCall): Promise<void> {
    const { db } = this.options;
    const [due] = await db.query<{ crm_watermark: string | null }>(
      `SELECT crm_watermark FROM crm_connections WHERE id = $1 AND next_poll_at <= now()`,
      [connection.id],
    );
    if (due === undefined) return;
    const page = await call((p) => p.readConsentChanges(due.crm_watermark));
    for (const change of page.changes) {
      if (change.status === 'opted_out') await this.recordPolledOptOut(connection, call, change);
    }
    await db.query(
      `UPDATE crm_connections SET crm_watermark = coalesce($2, crm_watermark),
              next_poll_at = now() + ($3::int * interval '1 millisecond') WHERE id = $1`,
      [connection.id, page.watermark, this.options.consentPollMs],
    );
  }

  private async recordPolledOptOut(
    connection: CrmConnection,
    call: CrmCall,
    change: ConsentChange,
  ): Promise<void> {
    const { db, refs, clock, log } = this.options;
    let phones = await knownPhonesOf(db, {
      orgId: connection.orgId,
      connectionId: connection.id,
      ref: change.ref,
    });
    if (phones.length === 0) {
      const contact = await call((p) => p.findContactById(change.ref));
      phones = contact?.phones ?? [];
      if (phones.length > 0) await refs.remember(connection, phones, [change.ref]);
    }
    const recorded = await recordCrmOptOut(db, {
      orgId: connection.orgId,
      ref: change.ref,
      phones,
      changedAt: change.changedAt,
      now: clock(),
      via: 'poll',
    });
    if (recorded.length > 0)
      log(
        'info',
        `CRM ${connection.crm} opt-out of ${change.ref.id} recorded for ${recorded.length} number(s)`,
      );
  }
}
