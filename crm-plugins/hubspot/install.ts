/** Installing the plugin's property groups and properties on HubSpot, removing them, and checking them. */
import { CrmError, CrmPermissionError } from '../errors.ts';
import type { CrmHealth, InstallPlan, InstallReport, UninstallReport } from '../types.ts';
import type { HubSpotApi } from './client.ts';
import { GROUPS, PROPERTIES } from './mapping.ts';
import { PAYMENT_GROUPS, PAYMENT_PROPERTIES } from './payments.ts';

/** Every group and property install manages: the SMS ones, then the payment ones (notes, deals). */
const ALL_GROUPS: readonly { objectType: string; name: string; label: string }[] = [
  ...GROUPS,
  ...PAYMENT_GROUPS,
];
const ALL_PROPERTIES = [...PROPERTIES, ...PAYMENT_PROPERTIES];
const OBJECT_TYPES = [...new Set(ALL_GROUPS.map((g) => g.objectType))];

/** What install would create and what is already there. */
export async function planHubSpotInstall(api: HubSpotApi): Promise<InstallPlan> {
  const existing = await Promise.all(
    OBJECT_TYPES.map(async (type) => {
      try {
        return {
          type,
          groups: new Set(await api.listGroups(type)),
          props: new Set(await api.listProperties(type)),
        };
      } catch (error) {
        // A token without the deals scopes still gets everything else; deals get no fields.
        if (type === 'deals' && error instanceof CrmPermissionError) return null;
        throw error;
      }
    }),
  );
  const of = (type: string) => existing.find((e) => e?.type === type);
  const planned = (objectType: string) => of(objectType) !== undefined;
  return {
    crm: 'hubspot',
    steps: [
      ...ALL_GROUPS.filter((g) => planned(g.objectType)).map((g) => ({
        kind: 'property_group' as const,
        target: `${g.objectType}.${g.name}`,
        action: of(g.objectType)?.groups.has(g.name) ? ('exists' as const) : ('create' as const),
        description: `Property group "${g.label}" on ${g.objectType}`,
      })),
      ...ALL_PROPERTIES.filter((p) => planned(p.objectType)).map((p) => ({
        kind: 'property' as const,
        target: `${p.objectType}.${p.def.name}`,
        action: of(p.objectType)?.props.has(p.def.name) ? ('exists' as const) : ('create' as const),
        description: `${p.def.type} property "${p.def.label}" on ${p.objectType}`,
      })),
    ],
  };
}

/** Creates the groups and properties the plan marks `create`; groups first. */
export async function installHubSpot(api: HubSpotApi, plan?: InstallPlan): Promise<InstallReport> {
  const steps = (plan ?? (await planHubSpotInstall(api))).steps;
  const report: InstallReport = { created: [], alreadyPresent: [] };
  const note = (target: string, outcome: 'created' | 'exists') =>
    (outcome === 'created' ? report.created : report.alreadyPresent).push(target);
  // Groups before properties: a property names its group.
  for (const g of ALL_GROUPS) {
    const target = `${g.objectType}.${g.name}`;
    const step = steps.find((s) => s.target === target);
    if (step?.action === 'create') note(target, await api.createGroup(g.objectType, g.name, g.label));
    else if (step !== undefined) note(target, 'exists');
  }
  for (const p of ALL_PROPERTIES) {
    const target = `${p.objectType}.${p.def.name}`;
    const step = steps.find((s) => s.target === target);
    if (step?.action === 'create') note(target, await api.createProperty(p.objectType, p.def));
    else if (step !== undefined) note(target, 'exists');
  }
  return report;
}

/** Archives the plugin's properties, then its groups. */
export async function uninstallHubSpot(api: HubSpotApi): Promise<UninstallReport> {
  const report: UninstallReport = { removed: [], absent: [] };
  const archive = async (objectType: string, target: string, run: () => Promise<'removed' | 'absent'>) => {
    let outcome: 'removed' | 'absent';
    try {
      outcome = await run();
    } catch (error) {
      // Without the deals scopes install created nothing on deals either.
      if (objectType !== 'deals' || !(error instanceof CrmPermissionError)) throw error;
      outcome = 'absent';
    }
    (outcome === 'removed' ? report.removed : report.absent).push(target);
  };
  for (const p of ALL_PROPERTIES)
    await archive(p.objectType, `${p.objectType}.${p.def.name}`, () =>
      api.archiveProperty(p.objectType, p.def.name),
    );
  for (const g of ALL_GROUPS)
    await archive(g.objectType, `${g.objectType}.${g.name}`, () => api.archiveGroup(g.objectType, g.name));
  return report;
}

/** Connected, and are the contact properties installed? */
export async function checkHubSpotHealth(api: HubSpotApi): Promise<CrmHealth> {
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
}
