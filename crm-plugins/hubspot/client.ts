/**
 * The only file that imports `@hubspot/api-client`. It exposes the few calls the plugin makes,
 * with plain types, and turns every SDK exception into a CrmError.
 */
import { AssociationTypes, Client } from '@hubspot/api-client';
import type { AssociationSpecAssociationCategoryEnum as AssociationCategory } from '@hubspot/api-client/lib/codegen/crm/objects/models/AssociationSpec';
import type { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/objects/models/Filter';
import type { AssociationSpecAssociationCategoryEnum as TaskAssociationCategory } from '@hubspot/api-client/lib/codegen/crm/objects/tasks/models/AssociationSpec';
import type {
  PropertyCreateFieldTypeEnum,
  PropertyCreateTypeEnum,
} from '@hubspot/api-client/lib/codegen/crm/properties/models/PropertyCreate';
import {
  CrmAuthExpiredError,
  CrmError,
  CrmNotFoundError,
  CrmPermissionError,
  CrmRateLimitError,
  CrmRequestError,
  CrmUnavailableError,
} from '../errors.ts';

/** A CRM object as the plugin sees it: id plus string properties. */
export interface HsRecord {
  id: string;
  properties: Record<string, string | null>;
  updatedAt: Date;
}

export type HsOperator =
  | 'EQ'
  | 'NEQ'
  | 'GT'
  | 'GTE'
  | 'LT'
  | 'LTE'
  | 'IN'
  | 'HAS_PROPERTY'
  | 'NOT_HAS_PROPERTY';

export interface HsFilter {
  propertyName: string;
  operator: HsOperator;
  value?: string;
  values?: string[];
}

export interface HsSearch {
  /** OR of groups, AND inside a group. */
  filterGroups: HsFilter[][];
  properties: string[];
  sorts?: { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' }[];
  limit: number;
  after?: string;
}

export interface HsPropertyDef {
  name: string;
  label: string;
  description: string;
  groupName: string;
  type: 'string' | 'datetime' | 'enumeration';
  fieldType: 'text' | 'date' | 'select';
  hidden?: boolean;
  options?: { label: string; value: string }[];
}

export interface HsBatchError {
  category: string;
  message: string;
  context: Record<string, string[]>;
}

export interface HsBatchResult {
  results: HsRecord[];
  errors: HsBatchError[];
}

export interface HubSpotClientConfig {
  /** A private-app access token (`pat-…`). */
  accessToken: string;
  /** API origin without a trailing slash; tests point it at the fake. */
  basePath?: string;
}

/** The HubSpot calls the plugin makes. */
export interface HubSpotApi {
  listGroups(objectType: string): Promise<string[]>;
  listProperties(objectType: string): Promise<string[]>;
  createGroup(objectType: string, name: string, label: string): Promise<'created' | 'exists'>;
  createProperty(objectType: string, def: HsPropertyDef): Promise<'created' | 'exists'>;
  archiveProperty(objectType: string, name: string): Promise<'removed' | 'absent'>;
  archiveGroup(objectType: string, name: string): Promise<'removed' | 'absent'>;
  getById(objectType: string, id: string, properties: string[]): Promise<HsRecord | null>;
  search(
    objectType: string,
    request: HsSearch,
  ): Promise<{ total: number; results: HsRecord[]; after: string | null }>;
  update(objectType: string, id: string, properties: Record<string, string>): Promise<HsRecord>;
  create(objectType: string, properties: Record<string, string>): Promise<HsRecord>;
  batchCreate(
    objectType: string,
    inputs: { properties: Record<string, string>; associateTo?: { id: string; typeId: number } }[],
  ): Promise<HsBatchResult>;
  batchUpdate(
    objectType: string,
    inputs: { id: string; properties: Record<string, string> }[],
  ): Promise<HsBatchResult>;
  /** Creates a task associated with one contact (task → contact, HubSpot-defined). */
  createTask(properties: Record<string, string>, contactId: string): Promise<HsRecord>;
  /** The id of the active owner (CRM user) with this email, or null if there is none. */
  findOwnerId(email: string): Promise<string | null>;
  /** The burst quota from the latest X-HubSpot-RateLimit-* headers (search answers carry none). */
  rateLimit(): { remaining: number; max: number; intervalMs: number } | null;
}

/** Association type communication → contact (HubSpot-defined). */
export const COMMUNICATION_TO_CONTACT = 81;

/**
 * Association type task → contact (HubSpot-defined, 204): the SDK's own enum, as HubSpot's tasks
 * guide documents it for `associations[].types[]` when creating a task.
 */
export const TASK_TO_CONTACT: number = AssociationTypes.taskToContact;

/** Wraps an SDK client. Construction is synchronous and makes no request. */
export function createHubSpotApi(config: HubSpotClientConfig): HubSpotApi {
  // No retry/limiter decorators: their settings live in a process-wide singleton that every
  // `new Client()` overwrites, and the sync worker owns backoff using our typed errors anyway.
  let quota: { remaining: number; max: number; intervalMs: number; at: number } | null = null;
  const client = new Client({
    accessToken: config.accessToken,
    middleware: [
      {
        pre: (context: unknown) => context,
        post: (context: unknown) => {
          // A 429 reaches the caller as a typed error with its own wait; its "0 left" is not news.
          if (field(context, 'httpStatusCode') === 429) return context;
          const headers = field(context, 'headers');
          const read = (name: string) => Number.parseInt(String(field(headers, name) ?? ''), 10);
          const remaining = read('x-hubspot-ratelimit-remaining');
          const max = read('x-hubspot-ratelimit-max');
          if (Number.isFinite(remaining) && Number.isFinite(max) && max > 0) {
            const interval = read('x-hubspot-ratelimit-interval-milliseconds');
            quota = {
              remaining,
              max,
              intervalMs: Number.isFinite(interval) ? interval : 10_000,
              at: Date.now(),
            };
          }
          return context;
        },
      },
    ],
    ...(config.basePath === undefined ? {} : { basePath: config.basePath.replace(/\/+$/, '') }),
  });

  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw toCrmError(what, error);
    }
  };
  const tolerate = async <T, K>(
    what: string,
    status: number,
    run: () => Promise<T>,
    onStatus: K,
  ): Promise<T | K> => {
    try {
      return await run();
    } catch (error) {
      if (httpCode(error) === status) return onStatus;
      throw toCrmError(what, error);
    }
  };
  const record = (o: {
    id: string;
    properties: Record<string, string | null>;
    updatedAt: Date;
  }): HsRecord => ({
    id: o.id,
    properties: o.properties,
    updatedAt: o.updatedAt,
  });
  const batch = (r: { results: HsRecordLike[]; errors?: HsErrorLike[] }): HsBatchResult => ({
    results: r.results.map(record),
    errors: (r.errors ?? []).map((e) => ({
      category: e.category,
      message: e.message,
      context: e.context ?? {},
    })),
  });

  return {
    listGroups: (objectType) =>
      call('list property groups', async () =>
        (await client.crm.properties.groupsApi.getAll(objectType)).results.map((g) => g.name),
      ),
    listProperties: (objectType) =>
      call('list properties', async () =>
        (await client.crm.properties.coreApi.getAll(objectType)).results.map((p) => p.name),
      ),
    createGroup: (objectType, name, label) =>
      tolerate(
        'create property group',
        409,
        async () => {
          await client.crm.properties.groupsApi.create(objectType, { name, label, displayOrder: -1 });
          return 'created' as const;
        },
        'exists' as const,
      ),
    createProperty: (objectType, def) =>
      tolerate(
        'create property',
        409,
        async () => {
          await client.crm.properties.coreApi.create(objectType, {
            name: def.name,
            label: def.label,
            description: def.description,
            groupName: def.groupName,
            type: def.type as PropertyCreateTypeEnum,
            fieldType: def.fieldType as PropertyCreateFieldTypeEnum,
            hidden: def.hidden ?? false,
            formField: false,
            ...(def.options === undefined
              ? {}
              : { options: def.options.map((o, i) => ({ ...o, displayOrder: i, hidden: false })) }),
          });
          return 'created' as const;
        },
        'exists' as const,
      ),
    archiveProperty: (objectType, name) =>
      tolerate(
        'archive property',
        404,
        async () => {
          await client.crm.properties.coreApi.archive(objectType, name);
          return 'removed' as const;
        },
        'absent' as const,
      ),
    archiveGroup: (objectType, name) =>
      tolerate(
        'archive property group',
        404,
        async () => {
          await client.crm.properties.groupsApi.archive(objectType, name);
          return 'removed' as const;
        },
        'absent' as const,
      ),
    getById: (objectType, id, properties) =>
      tolerate(
        `read ${objectType}`,
        404,
        async () => record(await client.crm.objects.basicApi.getById(objectType, id, properties)),
        null,
      ),
    search: (objectType, request) =>
      call(`search ${objectType}`, async () => {
        const page = await client.crm.objects.searchApi.doSearch(objectType, {
          filterGroups: request.filterGroups.map((filters) => ({
            filters: filters.map((f) => ({ ...f, operator: f.operator as FilterOperatorEnum })),
          })),
          properties: request.properties,
          // The SDK types sorts as strings, but the API takes sort objects (sent as-is).
          sorts: (request.sorts ?? []) as unknown as string[],
          limit: request.limit,
          ...(request.after === undefined ? {} : { after: request.after }),
        });
        return {
          total: page.total,
          results: page.results.map(record),
          after: page.paging?.next?.after ?? null,
        };
      }),
    update: (objectType, id, properties) =>
      call(`update ${objectType}`, async () =>
        record(await client.crm.objects.basicApi.update(objectType, id, { properties })),
      ),
    create: (objectType, properties) =>
      call(`create ${objectType}`, async () =>
        record(await client.crm.objects.basicApi.create(objectType, { properties, associations: [] })),
      ),
    batchCreate: (objectType, inputs) =>
      call(`batch create ${objectType}`, async () =>
        batch(
          await client.crm.objects.batchApi.create(objectType, {
            inputs: inputs.map((input) => ({
              properties: input.properties,
              associations:
                input.associateTo === undefined
                  ? []
                  : [
                      {
                        to: { id: input.associateTo.id },
                        types: [
                          {
                            associationCategory: 'HUBSPOT_DEFINED' as AssociationCategory,
                            associationTypeId: input.associateTo.typeId,
                          },
                        ],
                      },
                    ],
            })),
          }),
        ),
      ),
    batchUpdate: (objectType, inputs) =>
      call(`batch update ${objectType}`, async () =>
        batch(await client.crm.objects.batchApi.update(objectType, { inputs })),
      ),
    createTask: (properties, contactId) =>
      call('create task', async () =>
        record(
          await client.crm.objects.tasks.basicApi.create({
            properties,
            associations: [
              {
                to: { id: contactId },
                types: [
                  {
                    associationCategory: 'HUBSPOT_DEFINED' as TaskAssociationCategory,
                    associationTypeId: TASK_TO_CONTACT,
                  },
                ],
              },
            ],
          }),
        ),
      ),
    findOwnerId: (email) =>
      call('find owner', async () => {
        const wanted = email.trim().toLowerCase();
        const page = await client.crm.owners.ownersApi.getPage(wanted, undefined, 1, false);
        // The email filter is HubSpot's; checking it again costs nothing and guards a lax match.
        return page.results.find((o) => o.email?.toLowerCase() === wanted)?.id ?? null;
      }),
    // A reading older than its window says nothing about the current one.
    rateLimit: () =>
      quota === null || Date.now() - quota.at > quota.intervalMs
        ? null
        : { remaining: quota.remaining, max: quota.max, intervalMs: quota.intervalMs },
  };
}

interface HsRecordLike {
  id: string;
  properties: Record<string, string | null>;
  updatedAt: Date;
}
interface HsErrorLike {
  category: string;
  message: string;
  context?: Record<string, string[]>;
}

function httpCode(error: unknown): number | null {
  if (error instanceof Error && 'code' in error && typeof error.code === 'number') return error.code;
  return null;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** Milliseconds until the next midnight UTC: HubSpot's daily quota resets at the portal's midnight. */
function untilMidnightUtc(now: Date): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return next - now.getTime();
}

/** Translates an SDK exception (ApiException or a fetch failure) into a CrmError. */
export function toCrmError(what: string, error: unknown): CrmError {
  if (error instanceof CrmError) return error;
  const status = httpCode(error);
  if (status === null) {
    const message = error instanceof Error ? error.message : String(error);
    return new CrmUnavailableError('hubspot', `${what}: HubSpot unreachable (${message})`, null, null);
  }
  const body = field(error, 'body');
  const headers = field(error, 'headers');
  const vendorMessage =
    typeof field(body, 'message') === 'string' ? String(field(body, 'message')) : 'no message';
  const category = typeof field(body, 'category') === 'string' ? String(field(body, 'category')) : null;
  const message = `${what}: HubSpot ${status} ${vendorMessage}`;
  if (status === 429) {
    const policy = typeof field(body, 'policyName') === 'string' ? String(field(body, 'policyName')) : null;
    const header = (name: string) => {
      const v = field(headers, name);
      return typeof v === 'string' ? Number.parseInt(v, 10) : Number.NaN;
    };
    const retryAfterSeconds = header('retry-after');
    const intervalMs = header('x-hubspot-ratelimit-interval-milliseconds');
    const daily = policy === 'DAILY';
    const secondly = policy === 'SECONDLY' || vendorMessage === 'You have reached your secondly limit.';
    const retryAfterMs = Number.isFinite(retryAfterSeconds)
      ? retryAfterSeconds * 1000
      : daily
        ? untilMidnightUtc(new Date())
        : secondly
          ? 1000
          : Number.isFinite(intervalMs)
            ? intervalMs
            : 10_000;
    return new CrmRateLimitError('hubspot', message, retryAfterMs, daily ? 'daily' : 'burst', policy, status);
  }
  if (status === 401) return new CrmAuthExpiredError('hubspot', message, category, status);
  if (status === 403) return new CrmPermissionError('hubspot', message, category, status);
  if (status === 404) return new CrmNotFoundError('hubspot', message, category, status);
  if (status >= 500) return new CrmUnavailableError('hubspot', message, category, status);
  const errors = field(body, 'errors');
  const missingProperty =
    vendorMessage.includes('PROPERTY_DOESNT_EXIST') ||
    (Array.isArray(errors) && errors.some((e) => field(e, 'code') === 'PROPERTY_DOESNT_EXIST'));
  return new CrmRequestError(
    'hubspot',
    missingProperty ? 'not_installed' : 'invalid_request',
    message,
    category,
    status,
  );
}

/** Tokens from an OAuth authorization-code exchange. */
export interface HsOAuthTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  /** The portal (hub) the install granted access to: webhooks are routed by it. */
  portalId: string;
}

/**
 * Exchanges an install's authorization code for tokens (`POST /oauth/v1/token`,
 * grant_type=authorization_code) through the SDK's `oauth.tokensApi.create`, then reads the
 * token's portal (`GET /oauth/v1/access-tokens/{token}`, `oauth.accessTokensApi.get`).
 */
export async function exchangeHubSpotCode(input: {
  code: string;
  redirectUri: string;
  clientId: string;
  clientSecret: string;
  basePath?: string;
}): Promise<HsOAuthTokens> {
  const client = new Client({
    ...(input.basePath === undefined ? {} : { basePath: input.basePath.replace(/\/+$/, '') }),
  });
  try {
    const tokens = await client.oauth.tokensApi.create(
      'authorization_code',
      input.code,
      input.redirectUri,
      input.clientId,
      input.clientSecret,
    );
    if (typeof tokens.accessToken !== 'string' || tokens.accessToken === '')
      throw new CrmRequestError('hubspot', 'invalid_request', 'HubSpot returned no access token');
    // The token response does not say which portal it is for; the token's metadata does.
    const info = await client.oauth.accessTokensApi.get(tokens.accessToken);
    if (typeof info.hubId !== 'number' || !Number.isSafeInteger(info.hubId))
      throw new CrmRequestError(
        'hubspot',
        'invalid_request',
        'HubSpot did not say which portal the token is for',
      );
    return {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresIn: tokens.expiresIn,
      portalId: String(info.hubId),
    };
  } catch (error) {
    throw toCrmError('exchange authorization code', error);
  }
}
