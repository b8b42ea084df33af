import type { CountryCode } from 'libphonenumber-js';
import { CrmNotFoundError, CrmRequestError } from '../errors.ts';
import { nationalDigits, toE164 } from '../phone.ts';
import type {
  ConsentChange,
  ConsentChangesPage,
  ContactRef,
  CrmContact,
  CrmPlugin,
  InstallPlan,
} from '../types.ts';
import { createSalesforceApi, type SalesforceApi, type SfRecord } from './client.ts';
import {
  checkSalesforceHealth,
  installSalesforce,
  planSalesforceInstall,
  uninstallSalesforce,
} from './install.ts';
import {
  consentFields,
  F,
  OBJECT_OF,
  objectOf,
  PERSON_FIELDS,
  parseSfDate,
  type SfObject,
  toConsentChange,
  toContact,
  toFollowUpTask,
} from './mapping.ts';
import { appendSalesforceMessages, updateSalesforceMessages } from './message-log.ts';
import { ident, isRecordId, joinSoql, soql, soslFind } from './soql.ts';

export interface SalesforcePluginConfig {
  accessToken: string;
  instanceUrl: string;
  apiVersion?: string;
  defaultCountry?: CountryCode;
}

/** Renders `Id, Name, Owner.Email` from our constant field lists, each checked as an API name. */
const fieldList = (fields: readonly string[]) =>
  joinSoql(
    fields.map((f) => soql`${ident(f)}`),
    ', ',
  );

/**
 * The Salesforce plugin: consent on Contact/Lead custom fields, messages as completed Tasks
 * upserted on an external-id field, CRM-side opt-outs by polling SystemModstamp.
 */
export function createSalesforceCrm(
  config: SalesforcePluginConfig,
  api: SalesforceApi = createSalesforceApi(config),
): CrmPlugin {
  const country = config.defaultCountry ?? 'US';
  const isOurs = (ref: ContactRef) => ref.crm === 'salesforce' && isRecordId(ref.id);

  const lookup = async (object: SfObject, id: string) => {
    const rows = await api.query(
      soql`SELECT ${fieldList(PERSON_FIELDS[object])} FROM ${ident(object)} WHERE Id = ${id} LIMIT 1`,
    );
    return rows[0] === undefined ? null : toContact(rows[0], object, country);
  };

  /** The active user to assign a task to; without one the Task goes to the connected user. */
  const ownerOf = async (email: string | null | undefined): Promise<string | null> => {
    if (email === null || email === undefined || email.trim() === '') return null;
    const rows = await api.query(
      soql`SELECT Id FROM User WHERE Email = ${email.trim()} AND IsActive = true LIMIT 1`,
    );
    return typeof rows[0]?.Id === 'string' ? rows[0].Id : null;
  };

  return {
    id: 'salesforce',
    label: 'Salesforce',

    planInstall: () => planSalesforceInstall(api),

    install: (plan?: InstallPlan) => installSalesforce(api, plan),
    uninstall: () => uninstallSalesforce(api),

    async findContactById(ref) {
      if (!isOurs(ref)) return null;
      return lookup(OBJECT_OF[ref.objectType], ref.id);
    },

    async findContactsByPhone(phoneE164) {
      const wanted = toE164(phoneE164, country);
      if (wanted === null) return [];
      // SOSL matches phone fields whatever their punctuation; the post-filter drops numbers that
      // merely share digits (another country, an extension).
      const rows = await api.search(
        soslFind(nationalDigits(wanted), 'PHONE', [
          { object: 'Contact', fields: PERSON_FIELDS.Contact, limit: 50 },
          { object: 'Lead', fields: PERSON_FIELDS.Lead, limit: 50 },
        ]),
      );
      const contacts: CrmContact[] = [];
      for (const row of rows) {
        const object = objectOf(row);
        const contact = object === null ? null : toContact(row, object, country);
        if (contact?.phones.includes(wanted)) contacts.push(contact);
      }
      return contacts;
    },

    async createContact(input) {
      const phone = toE164(input.phoneE164, country);
      if (phone === null)
        throw new CrmRequestError('salesforce', 'invalid_request', `not a phone number: ${input.phoneE164}`);
      // A stranger becomes a lead, Salesforce's record for people not yet qualified.
      const id = await api.create('Lead', {
        LastName: (input.name ?? '').trim().slice(0, 80) || `SMS ${phone}`,
        Company: 'Unknown (inbound SMS)',
        MobilePhone: phone,
      });
      return (
        (await lookup('Lead', id)) ?? {
          ref: { crm: 'salesforce', objectType: 'lead', id },
          name: input.name ?? `SMS ${phone}`,
          phones: [phone],
          timeZone: null,
          ownerEmail: null,
        }
      );
    },

    async projectConsent(ref, consent) {
      if (!isOurs(ref)) throw new CrmNotFoundError('salesforce', `not a Salesforce record id: ${ref.id}`);
      await api.update(OBJECT_OF[ref.objectType], ref.id, consentFields(consent));
    },

    appendMessages: (batch) => appendSalesforceMessages(api, isOurs, batch),
    updateMessages: (batch) => updateSalesforceMessages(api, isOurs, batch),

    async createFollowUpTask(ref, task) {
      if (!isOurs(ref)) throw new CrmNotFoundError('salesforce', `not a Salesforce record id: ${ref.id}`);
      const ownerId = await ownerOf(task.assigneeEmail);
      // A WhoId that is gone fails the insert (INVALID_CROSS_REFERENCE_KEY → CrmNotFoundError).
      const id = await api.create('Task', toFollowUpTask(ref, task, new Date(), ownerId));
      return { id };
    },

    async readConsentChanges(since): Promise<ConsentChangesPage> {
      const sinceDate = since === null ? null : parseSfDate(since);
      if (since !== null && sinceDate === null) {
        throw new CrmRequestError('salesforce', 'invalid_request', `not a Salesforce watermark: ${since}`);
      }
      const changes: ConsentChange[] = [];
      let watermark = sinceDate?.getTime() ?? null;
      for (const object of ['Contact', 'Lead'] as const) {
        const fields = fieldList(['Id', F.status, F.source, F.projected, 'SystemModstamp']);
        const after = sinceDate === null ? soql`` : soql` AND SystemModstamp > ${sinceDate}`;
        const rows: SfRecord[] = await api.query(
          soql`SELECT ${fields} FROM ${ident(object)} WHERE ${ident(F.status)} != null${after} ORDER BY SystemModstamp ASC`,
        );
        for (const row of rows) {
          const stamp = parseSfDate(
            typeof row.SystemModstamp === 'string' ? row.SystemModstamp : null,
          )?.getTime();
          if (stamp !== undefined) watermark = watermark === null ? stamp : Math.max(watermark, stamp);
          const change = toConsentChange(row, object);
          if (change !== null) changes.push(change);
        }
      }
      changes.sort((a, b) => a.changedAt.getTime() - b.changedAt.getTime());
      return { changes, watermark: watermark === null ? null : new Date(watermark).toISOString() };
    },

    usage() {
      const u = api.apiUsage();
      return u === null
        ? null
        : { remaining: Math.max(0, u.limit - u.used), limit: u.limit, windowMs: 24 * 3600_000 };
    },

    healthCheck: () => checkSalesforceHealth(api),
  };
}
