/**
 * The only file that imports `@salesforce/core` (lazily: loading it costs ~0.4 s and it only
 * matters once a Salesforce org is connected). Queries arrive already built by soql.ts; every
 * jsforce error leaves as a CrmError.
 */
import type { Connection } from '@salesforce/core';
import {
  CrmAuthExpiredError,
  CrmError,
  CrmNotFoundError,
  CrmPermissionError,
  CrmRateLimitError,
  CrmRequestError,
  CrmUnavailableError,
} from '../errors.ts';
import type { SoqlQuery } from './soql.ts';

/** A record as the REST API returns it (fields by API name, relationships nested). */
export type SfRecord = Record<string, unknown> & { Id?: string };

export interface SfSaveError {
  code: string;
  message: string;
}

/** One row of an sObject-collection answer. */
export interface SfSaveResult {
  id: string | null;
  success: boolean;
  /** Upserts only: whether the record was new. */
  created: boolean;
  errors: SfSaveError[];
}

export interface SalesforceClientConfig {
  /** An OAuth access token (`00D…!…`), used as-is. */
  accessToken: string;
  /** e.g. https://acme.my.salesforce.com; tests point it at the fake. */
  instanceUrl: string;
  /** Pinned so the connection makes no version-discovery call. */
  apiVersion?: string;
}

/** The Salesforce calls the plugin makes. */
export interface SalesforceApi {
  query(q: SoqlQuery): Promise<SfRecord[]>;
  toolingQuery(q: SoqlQuery): Promise<SfRecord[]>;
  search(q: SoqlQuery): Promise<SfRecord[]>;
  createCustomField(fullName: string, metadata: Record<string, unknown>): Promise<'created' | 'exists'>;
  deleteCustomField(id: string): Promise<'removed' | 'absent'>;
  create(type: string, record: Record<string, unknown>): Promise<string>;
  destroy(type: string, id: string): Promise<'removed' | 'absent'>;
  update(type: string, id: string, fields: Record<string, unknown>): Promise<void>;
  /** sObject collections (≤ 200 records); records carry `attributes.type`. */
  createMany(type: string, records: Record<string, unknown>[]): Promise<SfSaveResult[]>;
  upsertMany(
    type: string,
    externalIdField: string,
    records: Record<string, unknown>[],
  ): Promise<SfSaveResult[]>;
  updateMany(
    records: (Record<string, unknown> & { Id: string; attributes: { type: string } })[],
  ): Promise<SfSaveResult[]>;
  /** API requests used / allowed in the rolling 24 h, from the last response's Sforce-Limit-Info. */
  apiUsage(): { used: number; limit: number } | null;
}

const DEFAULT_VERSION = '62.0';

/** One lazily opened Connection, and the error translation every call goes through. */
class SalesforceSession {
  readonly version: string;
  private connection: Promise<Connection> | null = null;
  private lastConnection: Connection | null = null;

  constructor(private readonly config: SalesforceClientConfig) {
    this.version = config.apiVersion ?? DEFAULT_VERSION;
  }

  private connect(): Promise<Connection> {
    if (this.connection === null) {
      const { config, version } = this;
      this.connection = (async () => {
        const { AuthInfo, Connection } = await import('@salesforce/core');
        // An access token as the username puts AuthInfo in token mode: no userinfo call, no org file.
        const authInfo = await AuthInfo.create({
          username: config.accessToken,
          accessTokenOptions: {
            accessToken: config.accessToken,
            instanceUrl: config.instanceUrl,
            loginUrl: config.instanceUrl,
          },
        });
        const conn = await Connection.create({ authInfo, connectionOptions: { version } });
        this.lastConnection = conn;
        return conn;
      })();
      this.connection.catch(() => {
        this.connection = null;
      });
    }
    return this.connection;
  }

  async call<T>(what: string, run: (conn: Connection) => Promise<T>): Promise<T> {
    let conn: Connection;
    try {
      conn = await this.connect();
    } catch (error) {
      throw new CrmAuthExpiredError(
        'salesforce',
        `${what}: cannot use this access token (${error instanceof Error ? error.message : String(error)})`,
        null,
        null,
      );
    }
    try {
      return await run(conn);
    } catch (error) {
      throw toCrmError(what, error);
    }
  }

  /** Like call, but the given vendor error codes answer `fallback` instead of throwing. */
  async tolerate<T, K>(what: string, codes: string[], run: (conn: Connection) => Promise<T>, fallback: K) {
    try {
      return await this.call(what, run);
    } catch (error) {
      if (error instanceof CrmError && error.vendorCode !== null && codes.includes(error.vendorCode))
        return fallback;
      throw error;
    }
  }

  base(): string {
    return `/services/data/v${this.version}`;
  }

  apiUsage(): { used: number; limit: number } | null {
    const usage = this.lastConnection?.limitInfo?.apiUsage;
    return usage === undefined ? null : { used: usage.used, limit: usage.limit };
  }
}

/** Wraps a lazily created Connection; construction makes no I/O. */
export function createSalesforceApi(config: SalesforceClientConfig): SalesforceApi {
  const session = new SalesforceSession(config);
  const call = session.call.bind(session);
  const tolerate = session.tolerate.bind(session);

  return {
    query: (q) =>
      call('query', async (conn) => {
        const result = await conn.query<SfRecord>(q.text, { autoFetch: true, maxFetch: 50_000 });
        return result.records;
      }),
    toolingQuery: (q) =>
      call('tooling query', async (conn) => (await conn.tooling.query<SfRecord>(q.text)).records),
    search: (q) => call('search', async (conn) => (await conn.search(q.text)).searchRecords as SfRecord[]),
    createCustomField: (fullName, metadata) =>
      tolerate(
        `create custom field ${fullName}`,
        ['DUPLICATE_DEVELOPER_NAME', 'DUPLICATE_VALUE'],
        async (conn) => {
          const result = await conn.tooling
            .sobject('CustomField')
            .create({ FullName: fullName, Metadata: metadata });
          if (!result.success) throw saveFailure(result.errors);
          return 'created' as const;
        },
        'exists' as const,
      ),
    deleteCustomField: (id) =>
      tolerate(
        'delete custom field',
        ['NOT_FOUND', 'ENTITY_IS_DELETED'],
        async (conn) => {
          await conn.tooling.sobject('CustomField').destroy(id);
          return 'removed' as const;
        },
        'absent' as const,
      ),
    create: (type, record) =>
      call(`create ${type}`, async (conn) => {
        const result = await conn.sobject(type).create(record);
        if (!result.success) throw saveFailure(result.errors);
        return result.id;
      }),
    destroy: (type, id) =>
      tolerate(
        `delete ${type}`,
        ['NOT_FOUND', 'ENTITY_IS_DELETED'],
        async (conn) => {
          await conn.sobject(type).destroy(id);
          return 'removed' as const;
        },
        'absent' as const,
      ),
    update: (type, id, fields) =>
      call(`update ${type}`, async (conn) => {
        const result = await conn.sobject(type).update({ Id: id, ...fields });
        if (!result.success) throw saveFailure(result.errors);
      }),
    createMany: (type, records) =>
      call(`create ${type} records`, async (conn) =>
        toSaveResults(await conn.sobject(type).create(records, { allOrNone: false })),
      ),
    upsertMany: (type, externalIdField, records) =>
      call(`upsert ${type} records`, async (conn) =>
        toSaveResults(await conn.sobject(type).upsert(records, externalIdField, { allOrNone: false })),
      ),
    updateMany: (records) =>
      call('update records', async (conn) =>
        // One collection call may mix sObject types; jsforce's update() is typed per sObject.
        toSaveResults(
          await conn.requestPatch(`${session.base()}/composite/sobjects`, { allOrNone: false, records }),
        ),
      ),
    apiUsage: () => session.apiUsage(),
  };
}

function saveFailure(errors: readonly unknown[]): Error {
  const first = errors[0];
  const code = text(first, 'statusCode') ?? text(first, 'errorCode') ?? 'UNKNOWN';
  const failure = new Error(text(first, 'message') ?? 'save failed') as Error & { errorCode: string };
  failure.errorCode = code;
  return failure;
}

function text(value: unknown, key: string): string | null {
  if (typeof value !== 'object' || value === null || !(key in value)) return null;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : null;
}

function toSaveResults(raw: unknown): SfSaveResult[] {
  if (!Array.isArray(raw))
    throw new CrmUnavailableError('salesforce', 'unexpected collection response', null, null);
  return raw.map((row: unknown) => {
    const r = (typeof row === 'object' && row !== null ? row : {}) as Record<string, unknown>;
    const errors = Array.isArray(r.errors) ? r.errors : [];
    return {
      id: typeof r.id === 'string' ? r.id : null,
      success: r.success === true,
      created: r.created === true,
      errors: errors.map((e: unknown) => ({
        code: text(e, 'statusCode') ?? text(e, 'errorCode') ?? 'UNKNOWN',
        message: text(e, 'message') ?? '',
      })),
    };
  });
}

/** Error codes meaning a field the relay installs is missing. */
const MISSING_FIELD = new Set(['INVALID_FIELD', 'INVALID_FIELD_FOR_INSERT_UPDATE', 'NO_SUCH_COLUMN']);

/** Translates a jsforce error (errorCode, no HTTP status) or a network failure into a CrmError. */
export function toCrmError(what: string, error: unknown): CrmError {
  if (error instanceof CrmError) return error;
  const code = text(error, 'errorCode');
  const vendorMessage = error instanceof Error ? error.message : String(error);
  const message = `${what}: Salesforce ${code ?? 'error'}: ${vendorMessage}`;
  if (code === null) return new CrmUnavailableError('salesforce', message, null, null);
  if (code === 'INVALID_SESSION_ID' || code === 'INVALID_AUTH_HEADER') {
    return new CrmAuthExpiredError('salesforce', message, code, 401);
  }
  if (code === 'REQUEST_LIMIT_EXCEEDED') {
    // "TotalRequests Limit exceeded" is the rolling 24 h org quota; otherwise concurrent requests.
    const daily = /TotalRequests/i.test(vendorMessage);
    return new CrmRateLimitError(
      'salesforce',
      message,
      daily ? 60 * 60_000 : 5_000,
      daily ? 'daily' : 'burst',
      code,
      403,
    );
  }
  if (code === 'NOT_FOUND' || code === 'ENTITY_IS_DELETED' || code === 'INVALID_CROSS_REFERENCE_KEY') {
    return new CrmNotFoundError('salesforce', message, code, 404);
  }
  if (
    code.startsWith('INSUFFICIENT_ACCESS') ||
    code === 'API_DISABLED_FOR_ORG' ||
    code === 'API_CURRENTLY_DISABLED'
  ) {
    return new CrmPermissionError('salesforce', message, code, 403);
  }
  if (code === 'SERVER_UNAVAILABLE' || code === 'UNABLE_TO_LOCK_ROW' || /^ERROR_HTTP_5\d\d$/.test(code)) {
    return new CrmUnavailableError('salesforce', message, code, null);
  }
  if (MISSING_FIELD.has(code) && /SMS_\w+__c/.test(vendorMessage)) {
    return new CrmRequestError('salesforce', 'not_installed', message, code, 400);
  }
  return new CrmRequestError('salesforce', 'invalid_request', message, code, 400);
}

/** Tokens from the OAuth web-server flow. */
export interface SfOAuthTokens {
  accessToken: string;
  refreshToken: string | null;
  instanceUrl: string;
}

/** The authorize page of the web-server flow on the login host. */
export function salesforceAuthorizeUrl(input: {
  loginUrl: string;
  clientId: string;
  redirectUri: string;
  state: string;
}): string {
  const url = new URL(`${input.loginUrl.replace(/\/+$/, '')}/services/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: input.clientId,
    redirect_uri: input.redirectUri,
    scope: 'api refresh_token',
    state: input.state,
  }).toString();
  return url.href;
}

/**
 * Exchanges the web-server flow's code (`POST /services/oauth2/token`, grant_type=authorization_code)
 * through jsforce's OAuth2 (the client @salesforce/core itself uses).
 */
export async function exchangeSalesforceCode(input: {
  code: string;
  redirectUri: string;
  clientId: string;
  clientSecret: string;
  loginUrl: string;
}): Promise<SfOAuthTokens> {
  const { OAuth2 } = await import('@jsforce/jsforce-node');
  const oauth = new OAuth2({
    loginUrl: input.loginUrl.replace(/\/+$/, ''),
    clientId: input.clientId,
    clientSecret: input.clientSecret,
    redirectUri: input.redirectUri,
  });
  let answer: Record<string, unknown>;
  try {
    answer = (await oauth.requestToken(input.code)) as unknown as Record<string, unknown>;
  } catch (error) {
    const code = error instanceof Error ? error.name : 'error';
    const message = error instanceof Error ? error.message : String(error);
    if (code === 'invalid_grant' || code === 'invalid_client' || code === 'invalid_client_id')
      throw new CrmRequestError(
        'salesforce',
        'invalid_request',
        `code exchange refused: ${code}: ${message}`,
        code,
        400,
      );
    throw toCrmError('exchange authorization code', error);
  }
  const accessToken = answer.access_token;
  const instanceUrl = answer.instance_url;
  if (typeof accessToken !== 'string' || typeof instanceUrl !== 'string')
    throw new CrmRequestError('salesforce', 'invalid_request', 'Salesforce returned no access token');
  return {
    accessToken,
    refreshToken: typeof answer.refresh_token === 'string' ? answer.refresh_token : null,
    instanceUrl,
  };
}
