import type { CountryCode } from 'libphonenumber-js';
import { CrmError, CrmNotFoundError, CrmRequestError } from '../errors.ts';
import { nationalDigits, toE164, typedVariants } from '../phone.ts';
import type { ConsentChange, ConsentChangesPage, ContactRef, CrmPlugin, InstallPlan } from '../types.ts';
import { createHubSpotApi, type HsFilter, type HubSpotApi } from './client.ts';
import { checkHubSpotHealth, installHubSpot, planHubSpotInstall, uninstallHubSpot } from './install.ts';
import {
  CONTACT_PROPERTIES,
  consentProperties,
  P,
  toConsentChange,
  toContact,
  toTaskProperties,
} from './mapping.ts';
import { appendHubSpotMessages, PAGE, updateHubSpotMessages } from './message-log.ts';

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
 * with the contact, CRM-side opt-outs from a search on contacts modified since a watermark.
 */
export function createHubSpotCrm(
  config: HubSpotPluginConfig,
  api: HubSpotApi = createHubSpotApi(config),
): CrmPlugin {
  const country = config.defaultCountry ?? 'US';
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
      return record === null ? null : toContact(record, country);
    },

    async findContactsByPhone(phoneE164) {
      const wanted = toE164(phoneE164, country);
      if (wanted === null) return [];
      const variants = typedVariants(wanted);
      const national = nationalDigits(wanted);
      // Stored phone values are whatever people typed: match the usual spellings and HubSpot's
      // digits-only calculated fields, then keep only true matches after normalising.
      const page = await api.search('contacts', {
        filterGroups: [
          [{ propertyName: 'phone', operator: 'IN', values: variants }],
          [{ propertyName: 'mobilephone', operator: 'IN', values: variants }],
          [{ propertyName: 'hs_searchable_calculated_phone_number', operator: 'EQ', value: national }],
          [{ propertyName: 'hs_searchable_calculated_mobile_number', operator: 'EQ', value: national }],
        ],
        properties: CONTACT_PROPERTIES,
        limit: 100,
      });
      return page.results.map((r) => toContact(r, country)).filter((c) => c.phones.includes(wanted));
    },

    async createContact(input) {
      const phone = toE164(input.phoneE164, country);
      if (phone === null)
        throw new CrmRequestError('hubspot', 'invalid_request', `not a phone number: ${input.phoneE164}`);
      const [first, ...rest] = (input.name ?? '')
        .trim()
        .split(/\s+/)
        .filter((w) => w !== '');
      const record = await api.create('contacts', {
        phone,
        mobilephone: phone,
        ...(first === undefined ? {} : { firstname: first }),
        ...(rest.length === 0 ? {} : { lastname: rest.join(' ') }),
      });
      return toContact(
        { ...record, properties: { ...record.properties, phone, mobilephone: phone } },
        country,
      );
    },

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

    async readConsentChanges(since): Promise<ConsentChangesPage> {
      const sinceMs = since === null ? null : Date.parse(since);
      if (sinceMs !== null && Number.isNaN(sinceMs)) {
        throw new CrmRequestError('hubspot', 'invalid_request', `not a HubSpot watermark: ${since}`);
      }
      const filters: HsFilter[] = [{ propertyName: P.status, operator: 'HAS_PROPERTY' }];
      if (sinceMs !== null)
        filters.unshift({ propertyName: 'lastmodifieddate', operator: 'GT', value: String(sinceMs) });
      const changes: ConsentChange[] = [];
      let watermark = sinceMs;
      let after: string | undefined;
      do {
        const page = await api.search('contacts', {
          filterGroups: [filters],
          properties: [P.status, P.source, P.projected, 'lastmodifieddate'],
          sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
          limit: PAGE,
          ...(after === undefined ? {} : { after }),
        });
        for (const r of page.results) {
          const modified = Date.parse(r.properties.lastmodifieddate ?? '') || r.updatedAt.getTime();
          watermark = watermark === null ? modified : Math.max(watermark, modified);
          const change = toConsentChange(r);
          if (change !== null) changes.push(change);
        }
        after = page.after ?? undefined;
      } while (after !== undefined);
      return { changes, watermark: watermark === null ? null : new Date(watermark).toISOString() };
    },

    usage() {
      const q = api.rateLimit();
      return q === null ? null : { remaining: q.remaining, limit: q.max, windowMs: q.intervalMs };
    },

    healthCheck: () => checkHubSpotHealth(api),
  };
}
