import type { CountryCode } from 'libphonenumber-js';
import { chunk, failChunk, latestPerContact, screenBatch } from '../batching.ts';
import { CrmError, CrmNotFoundError, CrmRequestError } from '../errors.ts';
import { nationalDigits, toE164, typedVariants } from '../phone.ts';
import type {
  AppendResult,
  ConsentChange,
  ConsentChangesPage,
  ContactRef,
  CrmMessage,
  CrmPlugin,
  InstallPlan,
  InstallReport,
  UninstallReport,
  UpdateResult,
} from '../types.ts';
import { COMMUNICATION_TO_CONTACT, createHubSpotApi, type HsFilter, type HubSpotApi } from './client.ts';
import {
  CONTACT_PROPERTIES,
  consentProperties,
  GROUPS,
  lastSmsProperties,
  P,
  PROPERTIES,
  toCommunication,
  toConsentChange,
  toContact,
  toTaskProperties,
} from './mapping.ts';

export interface HubSpotPluginConfig {
  /** Private-app access token with crm.objects.contacts.read/write and crm.schemas.contacts.write. */
  accessToken: string;
  /** Defaults to https://api.hubapi.com; tests point it at the fake. */
  basePath?: string;
  /** Country assumed for numbers typed without a country code. */
  defaultCountry?: CountryCode;
}

/** HubSpot's batch create limit. */
const BATCH = 100;
/** Search pages hold at most 200 results. */
const PAGE = 200;
/** IN filters take at most 100 values; 5 filter groups per search. */
const IN_VALUES = 100;
const GROUPS_PER_SEARCH = 5;
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

  const planInstall = async (): Promise<InstallPlan> => {
    const [contactGroups, commGroups, contactProps, commProps] = await Promise.all([
      api.listGroups('contacts'),
      api.listGroups('communications'),
      api.listProperties('contacts'),
      api.listProperties('communications'),
    ]);
    const groups = { contacts: new Set(contactGroups), communications: new Set(commGroups) };
    const props = { contacts: new Set(contactProps), communications: new Set(commProps) };
    return {
      crm: 'hubspot',
      steps: [
        ...GROUPS.map((g) => ({
          kind: 'property_group' as const,
          target: `${g.objectType}.${g.name}`,
          action: groups[g.objectType].has(g.name) ? ('exists' as const) : ('create' as const),
          description: `Property group "${g.label}" on ${g.objectType}`,
        })),
        ...PROPERTIES.map((p) => ({
          kind: 'property' as const,
          target: `${p.objectType}.${p.def.name}`,
          action: props[p.objectType].has(p.def.name) ? ('exists' as const) : ('create' as const),
          description: `${p.def.type} property "${p.def.label}" on ${p.objectType}`,
        })),
      ],
    };
  };

  /** Keys of these messages that already have a Communication (a retried batch). */
  const existingKeys = async (messages: readonly CrmMessage[]): Promise<Set<string>> => {
    const wanted = new Set(messages.map((m) => m.externalKey));
    const found = new Set<string>();
    const collect = async (filterGroups: HsFilter[][], stopAboveTotal: number | null): Promise<boolean> => {
      let after: string | undefined;
      do {
        const page = await api.search('communications', {
          filterGroups,
          properties: [P.messageId],
          limit: PAGE,
          ...(after === undefined ? {} : { after }),
        });
        if (after === undefined && stopAboveTotal !== null && page.total > stopAboveTotal) return false;
        for (const r of page.results) {
          const key = r.properties[P.messageId];
          if (key && wanted.has(key)) found.add(key);
        }
        after = page.after ?? undefined;
      } while (after !== undefined);
      return true;
    };
    // One search over the batch's time window usually answers for the whole batch (new messages
    // → zero results). If the window is crowded with other logged messages, ask by key instead.
    const times = messages.map((m) => m.occurredAt.getTime());
    const windowed = await collect(
      [
        [
          { propertyName: 'hs_timestamp', operator: 'GTE', value: String(Math.min(...times)) },
          { propertyName: 'hs_timestamp', operator: 'LTE', value: String(Math.max(...times)) },
          { propertyName: P.messageId, operator: 'HAS_PROPERTY' },
        ],
      ],
      2 * messages.length + PAGE,
    );
    if (!windowed) {
      for (const keys of chunk([...wanted], IN_VALUES * GROUPS_PER_SEARCH)) {
        await collect(
          chunk(keys, IN_VALUES).map((values) => [
            { propertyName: P.messageId, operator: 'IN' as const, values },
          ]),
          null,
        );
      }
    }
    return found;
  };

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

    planInstall,

    async install(plan?: InstallPlan): Promise<InstallReport> {
      const steps = (plan ?? (await planInstall())).steps;
      const report: InstallReport = { created: [], alreadyPresent: [] };
      const note = (target: string, outcome: 'created' | 'exists') =>
        (outcome === 'created' ? report.created : report.alreadyPresent).push(target);
      // Groups before properties: a property names its group.
      for (const g of GROUPS) {
        const target = `${g.objectType}.${g.name}`;
        const step = steps.find((s) => s.target === target);
        if (step?.action === 'create') note(target, await api.createGroup(g.objectType, g.name, g.label));
        else if (step !== undefined) note(target, 'exists');
      }
      for (const p of PROPERTIES) {
        const target = `${p.objectType}.${p.def.name}`;
        const step = steps.find((s) => s.target === target);
        if (step?.action === 'create') note(target, await api.createProperty(p.objectType, p.def));
        else if (step !== undefined) note(target, 'exists');
      }
      return report;
    },

    async uninstall(): Promise<UninstallReport> {
      const report: UninstallReport = { removed: [], absent: [] };
      for (const p of PROPERTIES) {
        const outcome = await api.archiveProperty(p.objectType, p.def.name);
        (outcome === 'removed' ? report.removed : report.absent).push(`${p.objectType}.${p.def.name}`);
      }
      for (const g of GROUPS) {
        const outcome = await api.archiveGroup(g.objectType, g.name);
        (outcome === 'removed' ? report.removed : report.absent).push(`${g.objectType}.${g.name}`);
      }
      return report;
    },

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

    async appendMessages(batch): Promise<AppendResult> {
      const { accepted, rejected } = screenBatch('hubspot', batch, (m) => isOurs(m.contact));
      const result: AppendResult = { created: [], alreadyLogged: [], failed: rejected };
      if (accepted.length === 0) return result;
      const existing = await existingKeys(accepted);
      const fresh = accepted.filter((m) => !existing.has(m.externalKey));
      result.alreadyLogged.push(
        ...accepted.filter((m) => existing.has(m.externalKey)).map((m) => m.externalKey),
      );

      for (const part of chunk(fresh, BATCH)) {
        let outcome: Awaited<ReturnType<HubSpotApi['batchCreate']>>;
        try {
          outcome = await api.batchCreate(
            'communications',
            part.map((m) => ({
              properties: toCommunication(m),
              associateTo: { id: m.contact.id, typeId: COMMUNICATION_TO_CONTACT },
            })),
          );
        } catch (error) {
          // Throttling and auth need the caller to act; anything else fails just this chunk.
          failChunk(error, part, result.failed);
          continue;
        }
        const created = new Set(outcome.results.map((r) => r.properties[P.messageId]));
        for (const m of part) {
          if (created.has(m.externalKey)) {
            result.created.push(m.externalKey);
            continue;
          }
          const error =
            outcome.errors.find(
              (e) =>
                e.message.includes(m.externalKey) ||
                Object.values(e.context).some((v) => v.includes(m.externalKey)),
            ) ?? outcome.errors[0];
          result.failed.push({
            externalKey: m.externalKey,
            code: error?.category ?? 'unknown',
            message: error?.message ?? 'HubSpot did not create this entry',
            retryable: error?.category !== 'VALIDATION_ERROR',
          });
        }
      }

      const logged = new Set([...result.created, ...result.alreadyLogged]);
      const latest = latestPerContact(accepted.filter((m) => logged.has(m.externalKey)));
      for (const part of chunk([...latest.values()], BATCH)) {
        await api.batchUpdate(
          'contacts',
          part.map((m) => ({ id: m.contact.id, properties: lastSmsProperties(m) })),
        );
      }
      return result;
    },

    async updateMessages(batch): Promise<UpdateResult> {
      const { accepted, rejected } = screenBatch('hubspot', batch, (m) => isOurs(m.contact));
      const result: UpdateResult = { updated: [], notLogged: [], failed: rejected };
      // Per 100 messages: one search by message id (an IN filter takes 100 values), one batch update.
      for (const part of chunk(accepted, Math.min(BATCH, IN_VALUES))) {
        const idOf = new Map<string, string>();
        let outcome: Awaited<ReturnType<HubSpotApi['batchUpdate']>>;
        try {
          let after: string | undefined;
          do {
            const page = await api.search('communications', {
              filterGroups: [
                [{ propertyName: P.messageId, operator: 'IN', values: part.map((m) => m.externalKey) }],
              ],
              properties: [P.messageId],
              limit: PAGE,
              ...(after === undefined ? {} : { after }),
            });
            for (const r of page.results) {
              const key = r.properties[P.messageId];
              if (key) idOf.set(key, r.id);
            }
            after = page.after ?? undefined;
          } while (after !== undefined);
          const found = part.filter((m) => idOf.has(m.externalKey));
          if (found.length === 0) {
            result.notLogged.push(...part.map((m) => m.externalKey));
            continue;
          }
          outcome = await api.batchUpdate(
            'communications',
            found.map((m) => ({
              id: idOf.get(m.externalKey) as string,
              properties: { hs_communication_body: toCommunication(m).hs_communication_body as string },
            })),
          );
        } catch (error) {
          failChunk(error, part, result.failed);
          continue;
        }
        const updated = new Set(outcome.results.map((r) => r.id));
        for (const m of part) {
          const id = idOf.get(m.externalKey);
          if (id === undefined) result.notLogged.push(m.externalKey);
          else if (updated.has(id)) result.updated.push(m.externalKey);
          else if (
            outcome.errors.some((e) => e.category === 'OBJECT_NOT_FOUND' && e.context.ids?.includes(id))
          )
            result.notLogged.push(m.externalKey);
          else {
            const error = outcome.errors[0];
            result.failed.push({
              externalKey: m.externalKey,
              code: error?.category ?? 'unknown',
              message: error?.message ?? 'HubSpot did not update this entry',
              retryable: error?.category !== 'VALIDATION_ERROR',
            });
          }
        }
      }
      return result;
    },

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

    async healthCheck() {
      try {
        const present = new Set(await api.listProperties('contacts'));
        const missing = PROPERTIES.filter((p) => p.objectType === 'contacts' && !present.has(p.def.name));
        return missing.length === 0
          ? { ok: true, detail: 'connected; SMS properties installed' }
          : {
              ok: false,
              detail: `connected; install needed (missing ${missing.map((p) => p.def.name).join(', ')})`,
            };
      } catch (error) {
        if (error instanceof CrmError) return { ok: false, detail: `${error.code}: ${error.message}` };
        throw error;
      }
    },
  };
}
