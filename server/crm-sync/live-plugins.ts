import type { CrmRegistry } from '../../crm-plugins/registry.ts';
import type { CrmPlugin } from '../../crm-plugins/types.ts';
import type { SecretsKey } from '../crypto/secrets.ts';
import { type ConnectionSecrets, type CrmConnection, createPlugin, openSecrets } from './connections.ts';

/** A connection's plugin as of one version of its row (its tokens). */
export interface LivePlugin {
  version: number;
  connection: CrmConnection;
  secrets: ConnectionSecrets;
  plugin: CrmPlugin;
}

/** Builds a connection's plugin from its opened tokens (tests and the sandbox CRM inject one). */
export type PluginFactory = (connection: CrmConnection, secrets: ConnectionSecrets) => CrmPlugin;

/** One CRM call made through a connection's live plugin (refreshing its token once when it expired). */
export type CrmCall = <T>(op: (plugin: CrmPlugin) => Promise<T>) => Promise<T>;

/**
 * The plugins of CRM connections, built once per version of the connection row: new tokens or a
 * reconnect (which bump `updated_at`) build a new plugin, anything else reuses the one in hand.
 * The sync worker and the request handlers' OrgCrms each keep one.
 */
export class LivePlugins {
  private readonly byId = new Map<string, LivePlugin>();

  constructor(private readonly pluginFor: PluginFactory = createPlugin) {}

  /** The connection's plugin, opening its tokens with `key` when the row is newer than the one in hand. */
  of(connection: CrmConnection, key: SecretsKey): LivePlugin {
    const cached = this.byId.get(connection.id);
    if (cached !== undefined && cached.version >= connection.updatedAt.getTime()) return cached;
    return this.replace(connection, openSecrets(key, connection));
  }

  /** The plugin in hand for a connection, if any. */
  current(connectionId: string): LivePlugin | undefined {
    return this.byId.get(connectionId);
  }

  /** A new plugin for a connection whose tokens were just renewed. */
  replace(connection: CrmConnection, secrets: ConnectionSecrets): LivePlugin {
    const live = {
      version: connection.updatedAt.getTime(),
      connection,
      secrets,
      plugin: this.pluginFor(connection, secrets),
    };
    this.byId.set(connection.id, live);
    return live;
  }
}

/**
 * Plugins for connections where a connection to the installation's own sandbox CRM uses that very
 * plugin (its records live in memory: the sandbox CRM's pages show what the sync wrote).
 */
export function withInstallationCrms(
  shared: CrmRegistry,
  fallback: PluginFactory = createPlugin,
): PluginFactory {
  return (connection, secrets) =>
    (connection.crm === 'sandbox' ? shared.get('sandbox') : null) ?? fallback(connection, secrets);
}
