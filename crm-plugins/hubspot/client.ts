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
import { CrmRequestError } from '../errors.ts';
import { field, type HsErrorLike, type HsRecordLike, httpCode, toCrmError } from './sdk-errors.ts';
import type { HsBatchResult, HsOAuthTokens, HsRecord, HubSpotApi, HubSpotClientConfig } from './wire.ts';

export { toCrmError } from './sdk-errors.ts';
export type {
  HsBatchError,
  HsBatchResult,
  HsFilter,
  HsOAuthTokens,
  HsOperator,
  HsPropertyDef,
  HsRecord,
  HsSearch,
  HubSpotApi,
  HubSpotClientConfig,
} from './wire.ts';

/** Association type communication → contact (HubSpot-defined). */
export const COMMUNICATION_TO_CONTACT = 81;

/** Association types note → contact and note → deal (HubSpot-defined). */
export const NOTE_TO_CONTACT: number = AssociationTypes.noteToContact;
export const NOTE_TO_DEAL: number = AssociationTypes.noteToDeal;

/**
 * Association type task → contact (HubSpot-defined, 204): the SDK's own enum, as HubSpot's tasks
 * guide documents it for `associations[].types[]` when creating a task.
 */
export const TASK_TO_CONTACT: number = AssociationTypes.taskToContact;

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
const record = (o: { id: string; properties: Record<string, string | null>; updatedAt: Date }): HsRecord => ({
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

/** Property groups and properties: what install, uninstall and the health check use. */
function propertyCalls(
  client: Client,
): Pick<
  HubSpotApi,
  'listGroups' | 'listProperties' | 'createGroup' | 'createProperty' | 'archiveProperty' | 'archiveGroup'
> {
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
  };
}

/** Reading, searching and writing CRM records, one at a time or in batches. */
function recordCalls(
  client: Client,
): Pick<HubSpotApi, 'getById' | 'search' | 'update' | 'create' | 'batchCreate' | 'batchUpdate'> {
  return {
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
    create: (objectType, properties, associateTo = []) =>
      call(`create ${objectType}`, async () =>
        record(
          await client.crm.objects.basicApi.create(objectType, {
            properties,
            associations: associateTo.map((to) => ({
              to: { id: to.id },
              types: [
                {
                  associationCategory: 'HUBSPOT_DEFINED' as AssociationCategory,
                  associationTypeId: to.typeId,
                },
              ],
            })),
          }),
        ),
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
  };
}

/** Follow-up tasks and the owners they are assigned to. */
function taskCalls(client: Client): Pick<HubSpotApi, 'createTask' | 'findOwnerId' | 'ownerEmail'> {
  return {
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
    ownerEmail: (ownerId) =>
      tolerate(
        'get owner',
        404,
        async () => (await client.crm.owners.ownersApi.getById(Number(ownerId), 'id', false)).email ?? null,
        null,
      ),
  };
}

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

  return {
    ...propertyCalls(client),
    ...recordCalls(client),
    ...taskCalls(client),
    // A reading older than its window says nothing about the current one.
    rateLimit: () =>
      quota === null || Date.now() - quota.at > quota.intervalMs
        ? null
        : { remaining: quota.remaining, max: quota.max, intervalMs: quota.intervalMs },
  };
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
