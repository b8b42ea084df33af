import type { ContactRef, CrmId } from '../../crm-plugins/types.ts';
import type { Database, Queryable } from '../db/database.ts';
import { currentConsent, failQueuedAfterOptOut, recordConsent } from '../stores/consent-store.ts';
import { phoneNumber } from '../stores/phone-columns.ts';

const LABEL: Record<CrmId, string> = { hubspot: 'HubSpot', salesforce: 'Salesforce', sandbox: 'Sandbox CRM' };

/** Numbers the relay already ties to a CRM record (sent-to contacts and earlier lookups). */
export async function knownPhonesOf(
  db: Queryable,
  input: { orgId: string; connectionId: string; ref: ContactRef },
): Promise<string[]> {
  const rows = await db.query<{ phone: string }>(
    `SELECT phone_e164 AS phone FROM contacts WHERE org_id = $1 AND crm = $2 AND crm_object = $3 AND crm_id = $4
     UNION
     SELECT phone_e164 FROM crm_contact_links WHERE connection_id = $5 AND object_type = $3 AND ref_id = $4`,
    [input.orgId, input.ref.crm, input.ref.objectType, input.ref.id, input.connectionId],
  );
  return rows.map((r) => phoneNumber(db, r.phone));
}

/**
 * Records an opt-out somebody set in the CRM: one ledger event per number of the record (unless
 * that number is opted out already) and its queued texts fail, all in one transaction under the
 * same (org, phone) consent lock the other consent paths take. Returns the numbers newly opted out.
 */
export async function recordCrmOptOut(
  db: Database,
  input: {
    orgId: string;
    ref: ContactRef;
    phones: readonly string[];
    changedAt: Date;
    via: string;
    /** The relay's clock: the opt-out's instant in the ledger. */
    now: Date;
  },
): Promise<string[]> {
  const label = LABEL[input.ref.crm];
  return db.transaction(async (tx) => {
    const recorded: string[] = [];
    for (const phone of [...new Set(input.phones)].sort()) {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`consent:${input.orgId}:${phone}`]);
      const consent = await currentConsent(tx, input.orgId, phone);
      if (consent.status === 'opted_out') continue;
      // The ledger moved on after this CRM edit (e.g. the customer texted START later): the newer wins.
      if (consent.since !== null && consent.since > input.changedAt) continue;
      await recordConsent(tx, {
        orgId: input.orgId,
        phone,
        kind: 'opt_out',
        source: 'crm_change',
        evidence: `${label} ${input.ref.objectType} ${input.ref.id}: SMS consent status set to "opted_out" in the CRM at ${input.changedAt.toISOString()} (${input.via})`,
        actor: `crm:${input.ref.crm}`,
        classification: 'CRM-side consent change',
        at: input.now,
      });
      await failQueuedAfterOptOut(tx, input.orgId, phone);
      recorded.push(phone);
    }
    return recorded;
  });
}
