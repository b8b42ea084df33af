/** Installing the plugin's property groups and properties on HubSpot, removing them, and checking them. */
import { CrmError } from '../errors.ts';
import type { CrmHealth, InstallPlan, InstallReport, UninstallReport } from '../types.ts';
import type { HubSpotApi } from './client.ts';
import { GROUPS, PROPERTIES } from './mapping.ts';

/** What install would create and what is already there. */
export async function planHubSpotInstall(api: HubSpotApi): Promise<InstallPlan> {
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
}

/** Creates the groups and properties the plan marks `create`; groups first. */
export async function installHubSpot(api: HubSpotApi, plan?: InstallPlan): Promise<InstallReport> {
  const steps = (plan ?? (await planHubSpotInstall(api))).steps;
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
}

/** Archives the plugin's properties, then its groups. */
export async function uninstallHubSpot(api: HubSpotApi): Promise<UninstallReport> {
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
