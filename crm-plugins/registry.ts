import { createHubSpotCrm, type HubSpotPluginConfig } from './hubspot/index.ts';
import { hubSpotOAuth } from './hubspot/oauth.ts';
import type { CrmOAuth } from './oauth.ts';
import { createSalesforceCrm, type SalesforcePluginConfig } from './salesforce/index.ts';
import { salesforceOAuth } from './salesforce/oauth.ts';
import { createSandboxCrm, type SandboxCrmOptions } from './sandbox/index.ts';
import { CRM_IDS, type CrmId, type CrmPlugin } from './types.ts';

/** The CRM plugins this installation has connected, by id. */
export interface CrmRegistry {
  get(id: CrmId): CrmPlugin | null;
  list(): CrmPlugin[];
}

/** What each plugin needs to connect (credentials come from config/CLI, never from here). */
export interface CrmConnections {
  sandbox: SandboxCrmOptions;
  hubspot: HubSpotPluginConfig;
  salesforce: SalesforcePluginConfig;
}

/** Factories of every plugin, listed explicitly; a test checks each CrmId has one. */
export const CRM_FACTORIES: { [K in CrmId]: (config: CrmConnections[K]) => CrmPlugin } = {
  sandbox: (config) => createSandboxCrm(config),
  hubspot: (config) => createHubSpotCrm(config),
  salesforce: (config) => createSalesforceCrm(config),
};

/** The CRMs connected through an OAuth web flow; the sandbox needs none. */
export type OAuthCrm = 'hubspot' | 'salesforce';
export const OAUTH_CRMS: readonly OAuthCrm[] = ['hubspot', 'salesforce'];

/** Each OAuth CRM's authorize URL, code exchange and token endpoint, listed explicitly. */
export const CRM_OAUTH: { [K in OAuthCrm]: CrmOAuth } = {
  hubspot: hubSpotOAuth,
  salesforce: salesforceOAuth,
};

/** The OAuth surface of a CRM, or null when it is not connected through OAuth. */
export const oauthOf = (crm: CrmId): CrmOAuth | null => (crm === 'sandbox' ? null : CRM_OAUTH[crm]);

/**
 * Builds the registry. Pass ids of plugins that need no credentials (`['sandbox']`), or the
 * connection settings of each enabled plugin (`{ hubspot: { accessToken } }`).
 */
export function createCrmRegistry(enabled: readonly 'sandbox'[] | Partial<CrmConnections>): CrmRegistry {
  const plugins = new Map<CrmId, CrmPlugin>();
  const connections: Partial<CrmConnections> = isIdList(enabled)
    ? Object.fromEntries(enabled.map((id) => [id, {}]))
    : enabled;
  const connect = <K extends CrmId>(id: K, config: CrmConnections[K] | undefined) => {
    if (config !== undefined) plugins.set(id, CRM_FACTORIES[id](config));
  };
  for (const id of CRM_IDS) connect(id, connections[id]);
  return {
    get: (id) => plugins.get(id) ?? null,
    list: () => [...plugins.values()],
  };
}

function isIdList(value: readonly 'sandbox'[] | Partial<CrmConnections>): value is readonly 'sandbox'[] {
  return Array.isArray(value);
}
