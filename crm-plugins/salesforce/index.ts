import type { CountryCode } from 'libphonenumber-js';
import { CrmNotFoundError } from '../errors.ts';
import type { ContactRef, CrmPlugin, InstallPlan } from '../types.ts';
import { createSalesforceApi, type SalesforceApi } from './client.ts';
import { readSalesforceConsentChanges } from './consent-changes.ts';
import {
  createSalesforceContact,
  findSalesforceContactsByPhone,
  lookupSalesforcePerson,
} from './contacts.ts';
import {
  checkSalesforceHealth,
  installSalesforce,
  planSalesforceInstall,
  uninstallSalesforce,
} from './install.ts';
import { consentFields, OBJECT_OF, toFollowUpTask } from './mapping.ts';
import { appendSalesforceMessages, updateSalesforceMessages } from './message-log.ts';
import { recordSalesforcePayment } from './payments.ts';
import { isRecordId, soql } from './soql.ts';

export interface SalesforcePluginConfig {
  accessToken: string;
  instanceUrl: string;
  apiVersion?: string;
  defaultCountry?: CountryCode;
}

/**
 * The Salesforce plugin: consent on Contact/Lead custom fields, messages as completed Tasks
 * upserted on an external-id field, payment requests as Tasks (and Opportunity fields), CRM-side opt-outs by polling SystemModstamp.
 */
export function createSalesforceCrm(
  config: SalesforcePluginConfig,
  api: SalesforceApi = createSalesforceApi(config),
): CrmPlugin {
  const country = config.defaultCountry ?? 'US';
  const isOurs = (ref: ContactRef) => ref.crm === 'salesforce' && isRecordId(ref.id);

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
      return lookupSalesforcePerson(api, country, OBJECT_OF[ref.objectType], ref.id);
    },

    findContactsByPhone: (phoneE164) => findSalesforceContactsByPhone(api, country, phoneE164),

    createContact: (input) => createSalesforceContact(api, country, input),

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

    async recordPayment(payment) {
      if (!isOurs(payment.contact))
        throw new CrmNotFoundError('salesforce', `not a Salesforce record id: ${payment.contact.id}`);
      return recordSalesforcePayment(api, payment);
    },

    readConsentChanges: (since) => readSalesforceConsentChanges(api, since),

    usage() {
      const u = api.apiUsage();
      return u === null
        ? null
        : { remaining: Math.max(0, u.limit - u.used), limit: u.limit, windowMs: 24 * 3600_000 };
    },

    healthCheck: () => checkSalesforceHealth(api),
  };
}
