import type { CountryCode } from 'libphonenumber-js';
import { chunk, failChunk, latestPerContact, screenBatch } from '../batching.ts';
import { CrmError, CrmNotFoundError, CrmRequestError } from '../errors.ts';
import { nationalDigits, toE164 } from '../phone.ts';
import type {
  AppendResult,
  ConsentChange,
  ConsentChangesPage,
  ContactRef,
  CrmContact,
  CrmPlugin,
  InstallPlan,
  InstallReport,
  InstallStep,
  UninstallReport,
  UpdateResult,
} from '../types.ts';
import { createSalesforceApi, type SalesforceApi, type SfRecord } from './client.ts';
import {
  CUSTOM_FIELDS,
  consentFields,
  F,
  fieldKey,
  OBJECT_OF,
  objectOf,
  PERMISSION_SET,
  PERSON_FIELDS,
  parseSfDate,
  type SfObject,
  toConsentChange,
  toContact,
  toFollowUpTask,
  toTask,
} from './mapping.ts';
import { ident, isRecordId, joinSoql, soql, soslFind } from './soql.ts';

export interface SalesforcePluginConfig {
  accessToken: string;
  instanceUrl: string;
  apiVersion?: string;
  defaultCountry?: CountryCode;
}

/** sObject collections take at most 200 records. */
const COLLECTION = 200;

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

  const existingFields = async (): Promise<Map<string, string>> => {
    const names = [...new Set(CUSTOM_FIELDS.map((f) => f.name.replace(/__c$/, '')))];
    const tables = [...new Set(CUSTOM_FIELDS.map((f) => f.table))];
    const rows = await api.toolingQuery(
      soql`SELECT Id, DeveloperName, TableEnumOrId FROM CustomField WHERE DeveloperName IN ${names} AND TableEnumOrId IN ${tables}`,
    );
    const found = new Map<string, string>();
    for (const row of rows) {
      const spec = CUSTOM_FIELDS.find(
        (f) => f.table === row.TableEnumOrId && f.name === `${String(row.DeveloperName)}__c`,
      );
      if (spec !== undefined && typeof row.Id === 'string') found.set(fieldKey(spec), row.Id);
    }
    return found;
  };

  const permissionSetId = async (): Promise<string | null> => {
    const rows = await api.query(soql`SELECT Id FROM PermissionSet WHERE Name = ${PERMISSION_SET.Name}`);
    return typeof rows[0]?.Id === 'string' ? rows[0].Id : null;
  };

  const grantedFields = async (psId: string | null): Promise<Set<string>> => {
    if (psId === null) return new Set();
    const rows = await api.query(soql`SELECT Id, Field FROM FieldPermissions WHERE ParentId = ${psId}`);
    return new Set(rows.map((r) => String(r.Field)));
  };

  const planInstall = async (): Promise<InstallPlan> => {
    const [fields, psId] = await Promise.all([existingFields(), permissionSetId()]);
    const granted = await grantedFields(psId);
    const steps: InstallStep[] = [
      ...CUSTOM_FIELDS.map((f) => ({
        kind: 'custom_field' as const,
        target: fieldKey(f),
        action: fields.has(fieldKey(f)) ? ('exists' as const) : ('create' as const),
        description: `${String(f.metadata.type)} field "${String(f.metadata.label)}" on ${f.sobject} (Tooling API)`,
      })),
      {
        kind: 'permission_set',
        target: `PermissionSet.${PERMISSION_SET.Name}`,
        action: psId === null ? 'create' : 'exists',
        description: `Permission set "${PERMISSION_SET.Label}" (assign it to the integration user)`,
      },
      ...CUSTOM_FIELDS.map((f) => ({
        kind: 'field_permission' as const,
        target: `FieldPermissions.${fieldKey(f)}`,
        action: granted.has(fieldKey(f)) ? ('exists' as const) : ('create' as const),
        description: `Read/edit access to ${fieldKey(f)} in "${PERMISSION_SET.Label}"`,
      })),
    ];
    return { crm: 'salesforce', steps };
  };

  const stepAction = (steps: readonly InstallStep[], target: string) =>
    steps.find((s) => s.target === target)?.action;

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

    planInstall,

    async install(plan?: InstallPlan): Promise<InstallReport> {
      const steps = (plan ?? (await planInstall())).steps;
      const report: InstallReport = { created: [], alreadyPresent: [] };
      for (const f of CUSTOM_FIELDS) {
        const action = stepAction(steps, fieldKey(f));
        if (action === undefined) continue;
        const outcome =
          action === 'create' ? await api.createCustomField(`${f.table}.${f.name}`, f.metadata) : 'exists';
        (outcome === 'created' ? report.created : report.alreadyPresent).push(fieldKey(f));
      }
      const psTarget = `PermissionSet.${PERMISSION_SET.Name}`;
      let psId = await permissionSetId();
      if (psId === null) {
        psId = await api.create('PermissionSet', {
          ...PERMISSION_SET,
          Description: 'Field access for the SMS relay',
        });
        report.created.push(psTarget);
      } else if (stepAction(steps, psTarget) !== undefined) report.alreadyPresent.push(psTarget);

      const granted = await grantedFields(psId);
      const wanted = CUSTOM_FIELDS.filter(
        (f) => stepAction(steps, `FieldPermissions.${fieldKey(f)}`) !== undefined,
      );
      for (const f of wanted.filter((f) => granted.has(fieldKey(f)))) {
        report.alreadyPresent.push(`FieldPermissions.${fieldKey(f)}`);
      }
      const missing = wanted.filter((f) => !granted.has(fieldKey(f)));
      if (missing.length > 0) {
        const results = await api.createMany(
          'FieldPermissions',
          missing.map((f) => ({
            attributes: { type: 'FieldPermissions' },
            ParentId: psId,
            SobjectType: f.sobject,
            Field: fieldKey(f),
            PermissionsRead: true,
            PermissionsEdit: true,
          })),
        );
        results.forEach((r, i) => {
          const target = `FieldPermissions.${fieldKey(missing[i] as (typeof missing)[number])}`;
          if (r.success) report.created.push(target);
          else if (r.errors.some((e) => e.code === 'DUPLICATE_VALUE')) report.alreadyPresent.push(target);
          else {
            throw new CrmRequestError(
              'salesforce',
              'invalid_request',
              `grant ${target}: ${r.errors[0]?.message ?? 'failed'}`,
              r.errors[0]?.code ?? null,
              400,
            );
          }
        });
      }
      // TODO(#6): assign the permission set to the integration user once OAuth tells us who that is.
      return report;
    },

    async uninstall(): Promise<UninstallReport> {
      const report: UninstallReport = { removed: [], absent: [] };
      const psId = await permissionSetId();
      const psTarget = `PermissionSet.${PERMISSION_SET.Name}`;
      // Deleting the permission set deletes its field permissions with it.
      if (psId === null || (await api.destroy('PermissionSet', psId)) === 'absent')
        report.absent.push(psTarget);
      else report.removed.push(psTarget);
      const fields = await existingFields();
      for (const f of CUSTOM_FIELDS) {
        const id = fields.get(fieldKey(f));
        if (id === undefined || (await api.deleteCustomField(id)) === 'absent')
          report.absent.push(fieldKey(f));
        else report.removed.push(fieldKey(f));
      }
      return report;
    },

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

    async appendMessages(batch): Promise<AppendResult> {
      const { accepted, rejected } = screenBatch('salesforce', batch, (m) => isOurs(m.contact));
      const result: AppendResult = { created: [], alreadyLogged: [], failed: rejected };
      for (const part of chunk(accepted, COLLECTION)) {
        let rows: Awaited<ReturnType<SalesforceApi['upsertMany']>>;
        try {
          // Upsert on the unique external id: Salesforce itself guarantees one Task per message.
          rows = await api.upsertMany('Task', F.messageId, part.map(toTask));
        } catch (error) {
          // Throttling and auth need the caller to act; anything else fails just this chunk.
          failChunk(error, part, result.failed);
          continue;
        }
        part.forEach((m, i) => {
          const row = rows[i];
          if (row?.success) (row.created ? result.created : result.alreadyLogged).push(m.externalKey);
          else {
            const error = row?.errors[0];
            const code = error?.code ?? 'UNKNOWN';
            result.failed.push({
              externalKey: m.externalKey,
              code,
              message: error?.message ?? 'Salesforce did not save this Task',
              retryable: [
                'UNABLE_TO_LOCK_ROW',
                'SERVER_UNAVAILABLE',
                'REQUEST_RUNNING_TOO_LONG',
                'UNKNOWN',
              ].includes(code),
            });
          }
        });
      }
      const logged = new Set([...result.created, ...result.alreadyLogged]);
      const latest = latestPerContact(accepted.filter((m) => logged.has(m.externalKey)));
      for (const part of chunk([...latest.values()], COLLECTION)) {
        await api.updateMany(
          part.map((m) => ({
            attributes: { type: OBJECT_OF[m.contact.objectType] },
            Id: m.contact.id,
            [F.lastSmsAt]: m.occurredAt.toISOString(),
          })),
        );
      }
      return result;
    },

    async updateMessages(batch): Promise<UpdateResult> {
      const { accepted, rejected } = screenBatch('salesforce', batch, (m) => isOurs(m.contact));
      const result: UpdateResult = { updated: [], notLogged: [], failed: rejected };
      for (const part of chunk(accepted, COLLECTION)) {
        let rows: Awaited<ReturnType<SalesforceApi['upsertMany']>>;
        try {
          // Upsert on the external id: the Task gets the new Subject (with the status) in place;
          // one that was never logged is created, so the timeline ends up right either way.
          rows = await api.upsertMany('Task', F.messageId, part.map(toTask));
        } catch (error) {
          failChunk(error, part, result.failed);
          continue;
        }
        part.forEach((m, i) => {
          const row = rows[i];
          if (row?.success) result.updated.push(m.externalKey);
          else {
            const error = row?.errors[0];
            const code = error?.code ?? 'UNKNOWN';
            result.failed.push({
              externalKey: m.externalKey,
              code,
              message: error?.message ?? 'Salesforce did not save this Task',
              retryable: ['UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'UNKNOWN'].includes(code),
            });
          }
        });
      }
      return result;
    },

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

    async healthCheck() {
      try {
        const fields = await existingFields();
        const missing = CUSTOM_FIELDS.filter((f) => !fields.has(fieldKey(f)));
        const usage = api.apiUsage();
        const quota = usage === null ? '' : `; API ${usage.used}/${usage.limit} today`;
        return missing.length === 0
          ? { ok: true, detail: `connected; SMS fields installed${quota}` }
          : {
              ok: false,
              detail: `connected; install needed (missing ${missing.map(fieldKey).join(', ')})${quota}`,
            };
      } catch (error) {
        if (error instanceof CrmError) return { ok: false, detail: `${error.code}: ${error.message}` };
        throw error;
      }
    },
  };
}
