/**
 * The CRMs a request may use: the calling org's own connections (HubSpot, Salesforce, connected
 * with `crm connect` or the OAuth flow), falling back to the installation's plugins (the sandbox
 * CRM when SMS_PROVIDER=sandbox). The sync worker has its own copy of each plugin; this one serves
 * the panel's contact lookups, sends to a CRM record and escalations.
 */
import { CrmAuthExpiredError } from '../../crm-plugins/errors.ts';
import type { CrmRegistry } from '../../crm-plugins/registry.ts';
import type { CrmId, CrmPlugin } from '../../crm-plugins/types.ts';
import { resolveSecretsKey, type SecretsKey } from '../crypto/secrets.ts';
import type { Queryable } from '../db/database.ts';
import { CONNECTION_COLUMNS, type ConnectionRow, type CrmConnection, toConnection } from './connections.ts';
import { type LivePlugin, LivePlugins, type PluginFactory, withInstallationCrms } from './live-plugins.ts';
import { renewConnection } from './oauth.ts';

/** Where request handlers get the CRM plugins of the org they act for. */
export interface OrgCrmSource {
  /** `fresh` reads the connections now instead of from the few seconds' cache (admin pages, right after a connect). */
  forOrg(orgId: string, options?: { fresh?: boolean }): Promise<CrmRegistry>;
  /** The installation's own plugins (the sandbox CRM), shared by every org without its own. */
  readonly shared: CrmRegistry;
}

/** The same plugins for every org (tests, and installations without per-org connections). */
export function staticCrms(registry: CrmRegistry): OrgCrmSource {
  return { forOrg: async () => registry, shared: registry };
}

export interface OrgCrmsOptions {
  db: Queryable;
  /** The installation-wide plugins an org without its own connection of that CRM falls back to. */
  base: CrmRegistry;
  /** Opens sealed tokens; resolved on first use (null: per-org connections are unusable). */
  secretsKey: () => Promise<SecretsKey | null>;
  pluginFor?: PluginFactory;
  /** How long an org's list of connections is reused before it is read again. */
  listTtlMs?: number;
  log?: (message: string) => void;
  /** Milliseconds for the list cache's age: a duration in one process, so monotonic by default. */
  now?: () => number;
}

/**
 * Per-org CRM plugins for request handlers. Connection lists are cached for a few seconds (a send
 * to a CRM record must not pay a query per request) and plugins until the connection row changes
 * (new tokens, reconnect). An expired access token is refreshed once, stored, and the call repeated.
 */
export class OrgCrms implements OrgCrmSource {
  private readonly lists = new Map<string, { at: number; connections: CrmConnection[] }>();
  private readonly live: LivePlugins;
  private readonly refreshing = new Map<string, Promise<LivePlugin>>();
  private readonly proxies = new Map<string, CrmPlugin>();
  private key: Promise<SecretsKey | null> | null = null;
  private readonly ttl: number;
  private readonly now: () => number;

  get shared(): CrmRegistry {
    return this.options.base;
  }

  constructor(private readonly options: OrgCrmsOptions) {
    this.live = new LivePlugins(options.pluginFor);
    this.ttl = options.listTtlMs ?? 5_000;
    this.now = options.now ?? (() => performance.now());
  }

  async forOrg(orgId: string, options: { fresh?: boolean } = {}): Promise<CrmRegistry> {
    const connections = await this.connectionsOf(orgId, options.fresh === true);
    const own = new Map<CrmId, CrmPlugin>();
    for (const connection of connections) {
      const plugin = await this.pluginOf(connection);
      if (plugin !== null) own.set(connection.crm, plugin);
    }
    const { base } = this.options;
    return {
      get: (id) => own.get(id) ?? base.get(id),
      list: () => [...own.values(), ...base.list().filter((p) => !own.has(p.id))],
    };
  }

  private async connectionsOf(orgId: string, fresh: boolean): Promise<CrmConnection[]> {
    const cached = this.lists.get(orgId);
    if (!fresh && cached !== undefined && this.now() - cached.at < this.ttl) return cached.connections;
    // A connection that lost its tokens (auth_failed) or was disconnected serves nothing.
    const rows = await this.options.db.query<ConnectionRow>(
      `SELECT ${CONNECTION_COLUMNS} FROM crm_connections
        WHERE org_id = $1 AND status IN ('active', 'needs_attention') ORDER BY created_at`,
      [orgId],
    );
    const connections = rows.map(toConnection);
    if (this.lists.size > 10_000) this.lists.clear();
    this.lists.set(orgId, { at: this.now(), connections });
    return connections;
  }

  private async pluginOf(connection: CrmConnection): Promise<CrmPlugin | null> {
    const cached = this.live.current(connection.id);
    if (cached !== undefined && cached.version >= connection.updatedAt.getTime())
      return this.guarded(connection.id);
    this.key ??= this.options.secretsKey();
    const key = await this.key;
    if (key === null) {
      this.key = null;
      this.options.log?.(`CRM connection ${connection.id} exists but SECRETS_KEY is not set`);
      return null;
    }
    this.live.of(connection, key);
    return this.guarded(connection.id);
  }

  /**
   * The connection's plugin behind a proxy: each promise-returning call that fails because the
   * access token expired refreshes it once (shared by concurrent calls) and is repeated.
   */
  private guarded(connectionId: string): CrmPlugin {
    // One proxy per connection: it always reaches the connection's current plugin.
    const existing = this.proxies.get(connectionId);
    if (existing !== undefined) return existing;
    const current = (): LivePlugin => {
      const live = this.live.current(connectionId);
      if (live === undefined) throw new Error(`CRM connection ${connectionId} is not loaded`);
      return live;
    };
    const proxy = new Proxy(current().plugin, {
      get: (_target, property) => {
        const value = Reflect.get(current().plugin, property);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result = Reflect.apply(value, current().plugin, args) as unknown;
          if (!(result instanceof Promise)) return result;
          return result.catch(async (error: unknown) => {
            if (!(error instanceof CrmAuthExpiredError)) throw error;
            const renewed = await this.refresh(connectionId, error);
            const again = Reflect.get(renewed.plugin, property) as (...a: unknown[]) => unknown;
            return Reflect.apply(again, renewed.plugin, args);
          });
        };
      },
    });
    this.proxies.set(connectionId, proxy);
    return proxy;
  }

  private refresh(connectionId: string, cause: CrmAuthExpiredError): Promise<LivePlugin> {
    const inFlight = this.refreshing.get(connectionId);
    if (inFlight !== undefined) return inFlight;
    const run = (async () => {
      const { connection, secrets } = this.live.current(connectionId) as LivePlugin;
      const renewal = await renewConnection(this.options.db, await this.key, connection, secrets, {
        cause,
        reconnectHint: 'reconnect the CRM',
      });
      if ('refused' in renewal) {
        this.lists.delete(connection.orgId);
        throw cause;
      }
      const live = this.live.replace(renewal.connection, renewal.secrets);
      this.lists.delete(connection.orgId);
      this.options.log?.(`CRM ${connection.crm} of org ${connection.orgId}: access token refreshed`);
      return live;
    })().finally(() => this.refreshing.delete(connectionId));
    this.refreshing.set(connectionId, run);
    return run;
  }
}

/** The source buildApp uses: org connections over the installation's plugins. */
export function orgCrmsFor(
  db: Queryable,
  config: { secretsKey: Buffer | null; smsProvider: string },
  base: CrmRegistry,
  log?: (message: string) => void,
): OrgCrms {
  return new OrgCrms({
    db,
    base,
    // An org connected to the installation's sandbox CRM uses that one (its pages show the records).
    pluginFor: withInstallationCrms(base),
    // Read-only: a request never creates the sandbox key (runtime start-up does).
    secretsKey: () =>
      resolveSecretsKey(db, {
        configured: config.secretsKey,
        sandbox: config.smsProvider === 'sandbox',
        readOnly: true,
      }).catch((error: unknown) => {
        // Without the key no stored CRM token can be opened; callers then answer that the CRM is not connected.
        log?.(`secrets key unavailable for CRM connections: ${String(error)}`);
        return null;
      }),
    ...(log === undefined ? {} : { log }),
  });
}
