import { createSandboxCrm } from './sandbox/index.ts';
import type { CrmId, CrmPlugin } from './types.ts';

/** The CRM plugins this installation has connected, by id. */
export interface CrmRegistry {
  get(id: CrmId): CrmPlugin | null;
  list(): CrmPlugin[];
}

/** Factories of every plugin, listed explicitly; a test checks each CrmId has an entry or a reason. */
export const CRM_FACTORIES = {
  sandbox: () => createSandboxCrm(),
} as const satisfies Partial<Record<CrmId, () => CrmPlugin>>;

/** Builds the registry from the enabled plugins (HubSpot and Salesforce arrive with issue #6). */
export function createCrmRegistry(enabled: readonly (keyof typeof CRM_FACTORIES)[]): CrmRegistry {
  const plugins = new Map<CrmId, CrmPlugin>();
  for (const id of enabled) plugins.set(id, CRM_FACTORIES[id]());
  return {
    get: (id) => plugins.get(id) ?? null,
    list: () => [...plugins.values()],
  };
}
