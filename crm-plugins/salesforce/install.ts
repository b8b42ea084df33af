/** Installing the plugin's custom fields and permission set on Salesforce, removing them, and checking them. */
import { CrmError, CrmRequestError } from '../errors.ts';
import type { CrmHealth, InstallPlan, InstallReport, InstallStep, UninstallReport } from '../types.ts';
import type { SalesforceApi } from './client.ts';
import { CUSTOM_FIELDS, fieldKey, PERMISSION_SET } from './mapping.ts';
import { PAYMENT_FIELDS } from './payments.ts';
import { soql } from './soql.ts';

/** Every field install manages: the SMS ones, then the payment ones (Task, Opportunity). */
const ALL_FIELDS = [...CUSTOM_FIELDS, ...PAYMENT_FIELDS];

async function existingFields(api: SalesforceApi): Promise<Map<string, string>> {
  const names = [...new Set(ALL_FIELDS.map((f) => f.name.replace(/__c$/, '')))];
  const tables = [...new Set(ALL_FIELDS.map((f) => f.table))];
  const rows = await api.toolingQuery(
    soql`SELECT Id, DeveloperName, TableEnumOrId FROM CustomField WHERE DeveloperName IN ${names} AND TableEnumOrId IN ${tables}`,
  );
  const found = new Map<string, string>();
  for (const row of rows) {
    const spec = ALL_FIELDS.find(
      (f) => f.table === row.TableEnumOrId && f.name === `${String(row.DeveloperName)}__c`,
    );
    if (spec !== undefined && typeof row.Id === 'string') found.set(fieldKey(spec), row.Id);
  }
  return found;
}

async function permissionSetId(api: SalesforceApi): Promise<string | null> {
  const rows = await api.query(soql`SELECT Id FROM PermissionSet WHERE Name = ${PERMISSION_SET.Name}`);
  return typeof rows[0]?.Id === 'string' ? rows[0].Id : null;
}

async function grantedFields(api: SalesforceApi, psId: string | null): Promise<Set<string>> {
  if (psId === null) return new Set();
  const rows = await api.query(soql`SELECT Id, Field FROM FieldPermissions WHERE ParentId = ${psId}`);
  return new Set(rows.map((r) => String(r.Field)));
}

/** What install would create and what is already there. */
export async function planSalesforceInstall(api: SalesforceApi): Promise<InstallPlan> {
  const [fields, psId] = await Promise.all([existingFields(api), permissionSetId(api)]);
  const granted = await grantedFields(api, psId);
  const steps: InstallStep[] = [
    ...ALL_FIELDS.map((f) => ({
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
    ...ALL_FIELDS.map((f) => ({
      kind: 'field_permission' as const,
      target: `FieldPermissions.${fieldKey(f)}`,
      action: granted.has(fieldKey(f)) ? ('exists' as const) : ('create' as const),
      description: `Read/edit access to ${fieldKey(f)} in "${PERMISSION_SET.Label}"`,
    })),
  ];
  return { crm: 'salesforce', steps };
}

const stepAction = (steps: readonly InstallStep[], target: string) =>
  steps.find((s) => s.target === target)?.action;

/** Creates the fields, the permission set and its field permissions that the plan lists. */
export async function installSalesforce(api: SalesforceApi, plan?: InstallPlan): Promise<InstallReport> {
  const steps = (plan ?? (await planSalesforceInstall(api))).steps;
  const report: InstallReport = { created: [], alreadyPresent: [] };
  for (const f of ALL_FIELDS) {
    const action = stepAction(steps, fieldKey(f));
    if (action === undefined) continue;
    const outcome =
      action === 'create' ? await api.createCustomField(`${f.table}.${f.name}`, f.metadata) : 'exists';
    (outcome === 'created' ? report.created : report.alreadyPresent).push(fieldKey(f));
  }
  const psTarget = `PermissionSet.${PERMISSION_SET.Name}`;
  const wanted = ALL_FIELDS.filter((f) => stepAction(steps, `FieldPermissions.${fieldKey(f)}`) !== undefined);
  // A plan narrowed to some fields (the console installs step by step) touches no permission set.
  if (stepAction(steps, psTarget) === undefined && wanted.length === 0) return report;
  let psId = await permissionSetId(api);
  if (psId === null) {
    psId = await api.create('PermissionSet', {
      ...PERMISSION_SET,
      Description: 'Field access for the SMS relay',
    });
    report.created.push(psTarget);
  } else if (stepAction(steps, psTarget) !== undefined) report.alreadyPresent.push(psTarget);

  const granted = await grantedFields(api, psId);
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
  // The admin assigns the permission set to the user whose token the relay holds (README, Salesforce):
  // the install does not know that user. The admin console (#17) is where the relay could do it.
  return report;
}

/** Deletes the permission set (and its field permissions with it), then the custom fields. */
export async function uninstallSalesforce(api: SalesforceApi): Promise<UninstallReport> {
  const report: UninstallReport = { removed: [], absent: [] };
  const psId = await permissionSetId(api);
  const psTarget = `PermissionSet.${PERMISSION_SET.Name}`;
  // Deleting the permission set deletes its field permissions with it.
  if (psId === null || (await api.destroy('PermissionSet', psId)) === 'absent') report.absent.push(psTarget);
  else report.removed.push(psTarget);
  const fields = await existingFields(api);
  for (const f of ALL_FIELDS) {
    const id = fields.get(fieldKey(f));
    if (id === undefined || (await api.deleteCustomField(id)) === 'absent') report.absent.push(fieldKey(f));
    else report.removed.push(fieldKey(f));
  }
  return report;
}

/** Connected, are the custom fields installed, and how much of today's API quota is used? */
export async function checkSalesforceHealth(api: SalesforceApi): Promise<CrmHealth> {
  try {
    const fields = await existingFields(api);
    const missing = ALL_FIELDS.filter((f) => !fields.has(fieldKey(f)));
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
}
