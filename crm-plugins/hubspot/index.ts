import type { CountryCode } from 'libphonenumber-js';
import { CrmError, CrmNotFoundError } from '../errors.ts';
import type { ContactRef, CrmPlugin, InstallPlan } from '../types.ts';
import { createHubSpotApi, type HubSpotApi } from './client.ts';
import { readHubSpotConsentChanges } from './consent-changes.ts';
import { createHubSpotContact, findHubSpotContactsByPhone, HubSpotOwners } from './contacts.ts';
import { checkHubSpotHealth, installHubSpot, planHubSpotInstall, uninstallHubSpot } from './install.ts';
import { CONTACT_PROPERTIES, consentProperties, toTaskProperties } from './mapping.ts';
import { appendHubSpotMessages, updateHubSpotMessages } from './message-log.ts';
import { recordHubSpotPayment } from './payments.ts';

export interface HubSpotPluginConfig {
  /** Private-app access token with crm.objects.contacts.read/write and crm.schemas.contacts.write. */
  accessToken: string;
  /** Defaults to https://api.hubapi.com; tests point it at the fake. */
  basePath?: string;
  /** Country assumed for numbers typed without a country code. */
  defaultCountry?: CountryCode;
}

const HUBSPOT_ID = /^\d{1,20}$/;

/**
 * The HubSpot plugin: consent on contact properties, messages as SMS Communications associated
 * with the contact, payment requests as notes (and deal properties), CRM-side opt-outs from a search on contacts modified since a watermark.
 */
export function createHubSpotCrm(
  config: HubSpotPluginConfig,
  api: HubSpotApi = createHubSpotApi(config),
): CrmPlugin {
  const country = config.defaultCountry ?? 'US';
  const owners = new HubSpotOwners(api, country);
  const isOurs = (ref: ContactRef) =>
    ref.crm === 'hubspot' && ref.objectType === 'contact' && HUBSPOT_ID.test(ref.id);

  /** The owner to assign a task to; a token without the owners scope leaves tasks unassigned. */
  const ownerOf = async (email: string | null | undefined): Promise<string | null> => {
    if (email === null || email === undefined || email.trim() === '') return null;
    try {
      return await api.findOwnerId(email);
    } catch (error) {
      if (error instanceof CrmError && error.code === 'forbidden') return null;
      throw error;
    }
  };

  return {
    id: 'hubspot',
    label: 'HubSpot',

    planInstall: () => planHubSpotInstall(api),
    install: (plan?: InstallPlan) => installHubSpot(api, plan),
    uninstall: () => uninstallHubSpot(api),

    async findContactById(ref) {
      if (!isOurs(ref)) return null;
      const record = await api.getById('contacts', ref.id, CONTACT_PROPERTIES);
      return record === null ? null : owners.contact(record);
    },

    findContactsByPhone: (phoneE164) => findHubSpotContactsByPhone(api, country, phoneE164, owners),

    createContact: (input) => createHubSpotContact(api, country, input),

    async projectConsent(ref, consent) {
      if (!isOurs(ref))
        throw new CrmNotFoundError('hubspot', `not a HubSpot contact: ${ref.crm}/${ref.objectType}`);
      await api.update('contacts', ref.id, consentProperties(consent));
    },

    appendMessages: (batch) => appendHubSpotMessages(api, isOurs, batch),
    updateMessages: (batch) => updateHubSpotMessages(api, isOurs, batch),

    async createFollowUpTask(ref, task) {
      if (!isOurs(ref))
        throw new CrmNotFoundError(
          'hubspot',
          `not a HubSpot contact: ${ref.crm}/${ref.objectType}/${ref.id}`,
        );
      const ownerId = await ownerOf(task.assigneeEmail);
      // An association to a contact that is gone fails the create (404): no orphan task is left.
      const created = await api.createTask(toTaskProperties(task, new Date(), ownerId), ref.id);
      return { id: created.id };
    },

    async recordPayment(payment) {
      if (!isOurs(payment.contact))
        throw new CrmNotFoundError(
          'hubspot',
          `not a HubSpot contact: ${payment.contact.crm}/${payment.contact.objectType}/${payment.contact.id}`,
        );
      return recordHubSpotPayment(api, payment);
    },

    readConsentChanges: (since) => readHubSpotConsentChanges(api, since),

    usage() {
      const q = api.rateLimit();
      return q === null ? null : { remaining: q.remaining, limit: q.max, windowMs: q.intervalMs };
    },

    healthCheck: () => checkHubSpotHealth(api),
  };
}
