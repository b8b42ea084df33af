/**
 * A contract-faithful HubSpot CRM API (v3) on 127.0.0.1: properties and groups, contacts,
 * communications, tasks, notes and deals with associations, owners, search, batch create/update — with
 * HubSpot's status codes, error bodies, ISO dates, rate-limit headers and 207 partial failures.
 * Driven by the real SDK.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parsePhoneNumberFromString } from 'libphonenumber-js';

type Props = Record<string, string | null>;

interface HsObject {
  id: string;
  properties: Props;
  createdAt: string;
  updatedAt: string;
  /** Contact ids a communication (type 81), a task (204) or a note (202) is associated with. */
  associations: string[];
  /** Deal ids a note is associated with (type 214). */
  dealAssociations: string[];
}

interface PropertyDef {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  description: string;
  hidden: boolean;
  hubspotDefined: boolean;
  options: { label: string; value: string; displayOrder: number; hidden: boolean }[];
  createdAt: string;
  updatedAt: string;
}

export interface FakeCall {
  method: string;
  path: string;
  status: number;
}

/** A failure the next matching request gets instead of a normal answer. */
export type HubSpotFault =
  | { kind: 'rate_limit'; policy: 'DAILY' | 'TEN_SECONDLY_ROLLING' | 'SECONDLY'; retryAfterSeconds?: number }
  | { kind: 'server_error'; status: 500 | 502 | 503 }
  | { kind: 'expired_token' }
  /** The token lacks a scope the call needs (e.g. a private app without the deals scopes). */
  | { kind: 'missing_scopes' };

const OBJECT_TYPES = ['contacts', 'communications', 'tasks', 'notes', 'deals'] as const;
type ObjectType = (typeof OBJECT_TYPES)[number];

const BUILT_IN: Record<ObjectType, [name: string, type: string][]> = {
  contacts: [
    ['firstname', 'string'],
    ['lastname', 'string'],
    ['email', 'string'],
    ['phone', 'string'],
    ['mobilephone', 'string'],
    ['hs_timezone', 'enumeration'],
    ['hubspot_owner_id', 'enumeration'],
    ['createdate', 'datetime'],
    ['lastmodifieddate', 'datetime'],
    ['hs_object_id', 'number'],
    ['hs_searchable_calculated_phone_number', 'string'],
    ['hs_searchable_calculated_mobile_number', 'string'],
  ],
  communications: [
    ['hs_communication_channel_type', 'enumeration'],
    ['hs_communication_logged_from', 'enumeration'],
    ['hs_communication_body', 'string'],
    ['hs_timestamp', 'datetime'],
    ['hs_createdate', 'datetime'],
    ['hs_lastmodifieddate', 'datetime'],
    ['hs_object_id', 'number'],
  ],
  tasks: [
    ['hs_task_subject', 'string'],
    ['hs_task_body', 'string'],
    ['hs_task_status', 'enumeration'],
    ['hs_task_priority', 'enumeration'],
    ['hs_task_type', 'enumeration'],
    ['hs_timestamp', 'datetime'],
    ['hubspot_owner_id', 'enumeration'],
    ['hs_createdate', 'datetime'],
    ['hs_lastmodifieddate', 'datetime'],
    ['hs_object_id', 'number'],
  ],
  notes: [
    ['hs_note_body', 'string'],
    ['hs_timestamp', 'datetime'],
    ['hubspot_owner_id', 'enumeration'],
    ['hs_createdate', 'datetime'],
    ['hs_lastmodifieddate', 'datetime'],
    ['hs_object_id', 'number'],
  ],
  deals: [
    ['dealname', 'string'],
    ['amount', 'number'],
    ['dealstage', 'enumeration'],
    ['pipeline', 'enumeration'],
    ['closedate', 'datetime'],
    ['createdate', 'datetime'],
    ['hs_lastmodifieddate', 'datetime'],
    ['hs_object_id', 'number'],
  ],
};

/** The default group of HubSpot-defined properties, per object type. */
const BUILT_IN_GROUP: Record<ObjectType, string> = {
  contacts: 'contactinformation',
  communications: 'communicationinformation',
  tasks: 'taskinformation',
  notes: 'noteinformation',
  deals: 'dealinformation',
};

/** The properties holding an object's creation and modification times (deals mix both styles). */
const CREATED: Record<ObjectType, string> = {
  contacts: 'createdate',
  communications: 'hs_createdate',
  tasks: 'hs_createdate',
  notes: 'hs_createdate',
  deals: 'createdate',
};
const MODIFIED: Record<ObjectType, string> = {
  contacts: 'lastmodifieddate',
  communications: 'hs_lastmodifieddate',
  tasks: 'hs_lastmodifieddate',
  notes: 'hs_lastmodifieddate',
  deals: 'hs_lastmodifieddate',
};

/** The options of HubSpot-defined enumerations the fake checks (the tasks guide's values). */
const BUILT_IN_OPTIONS: Record<string, string[]> = {
  hs_task_status: ['NOT_STARTED', 'IN_PROGRESS', 'WAITING', 'COMPLETED', 'DEFERRED'],
  hs_task_priority: ['NONE', 'LOW', 'MEDIUM', 'HIGH'],
  hs_task_type: ['TODO', 'CALL', 'EMAIL', 'LINKED_IN', 'LINKED_IN_CONNECT', 'LINKED_IN_MESSAGE'],
};

/** Properties HubSpot refuses to create an object without. */
const REQUIRED: Partial<Record<ObjectType, string[]>> = {
  tasks: ['hs_timestamp'],
  notes: ['hs_timestamp'],
};

/** HubSpot-defined association types from each object to contacts (communication 81, task 204, note 202). */
const TO_CONTACT: Partial<Record<ObjectType, number>> = { communications: 81, tasks: 204, notes: 202 };
/** HubSpot-defined association types from each object to deals (note 214). */
const TO_DEAL: Partial<Record<ObjectType, number>> = { notes: 214 };
const READ_ONLY = new Set([
  'createdate',
  'lastmodifieddate',
  'hs_object_id',
  'hs_createdate',
  'hs_lastmodifieddate',
  'hs_searchable_calculated_phone_number',
  'hs_searchable_calculated_mobile_number',
]);

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

function errorBody(message: string, category: string, extra: Record<string, unknown> = {}) {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra };
}

/** Digits of the national number, as HubSpot's calculated phone fields hold them. */
function searchableDigits(raw: string | null): string | null {
  if (raw === null || raw.trim() === '') return null;
  const parsed = parsePhoneNumberFromString(raw, 'US');
  return parsed?.nationalNumber ?? raw.replace(/\D/g, '');
}

export interface HubSpotFakeOptions {
  accessToken?: string;
  /** The portal (hub) id tokens belong to; GET /oauth/v1/access-tokens/:token reports it. */
  portalId?: number;
  /** OAuth app credentials POST /oauth/v1/token accepts (grant_type=refresh_token). */
  oauth?: { clientId: string; clientSecret: string; refreshToken: string };
}

/** The fake's handle: base URL for the SDK's basePath, state, knobs, counters. */
export interface HubSpotFake {
  readonly baseUrl: string;
  /** The portal (hub) id of this fake account. */
  readonly portalId: number;
  /** The token currently accepted (a refresh replaces it). */
  readonly accessToken: string;
  /** How many tokens POST /oauth/v1/token has issued. */
  readonly refreshes: number;
  /**
   * What the install page would hand the redirect: a single-use code for grant_type=authorization_code
   * (needs `oauth` options), valid only with this redirect URI.
   */
  issueAuthCode(redirectUri: string): string;
  readonly calls: FakeCall[];
  /** Requests made since the last reset (what the benchmark budget counts). */
  callCount(filter?: (c: FakeCall) => boolean): number;
  resetCalls(): void;
  addContact(props: Props): string;
  /** Edits a contact as a HubSpot user would in the UI. */
  setContactProperty(id: string, name: string, value: string | null): void;
  contact(id: string): HsObject | undefined;
  communications(): HsObject[];
  tasks(): HsObject[];
  notes(): HsObject[];
  /** Adds a deal as a HubSpot user would; returns its id. */
  addDeal(props: Props): string;
  deal(id: string): HsObject | undefined;
  /** Adds an active owner (a HubSpot user tasks can be assigned to); returns its owner id. */
  addOwner(input: { email: string; firstName?: string; lastName?: string }): string;
  /** The email of an owner, by id. */
  ownerEmail(id: string): string | undefined;
  propertyNames(objectType: ObjectType): string[];
  /** The next matching requests fail with these faults, one each, in order. */
  injectFaults(faults: HubSpotFault[], match?: (method: string, path: string) => boolean): void;
  /** From now on every request answers 401 (expired token) until `renewToken`. */
  expireToken(): void;
  renewToken(): void;
  /** The next batch create refuses inputs carrying these `sms_relay_message_id`s (207). */
  failNextCommunicationsFor(keys: readonly string[]): void;
  /**
   * HubSpot's search index trails its writes by seconds: while lagging, objects created since are
   * missing from search answers (reads by id see them), until the lag ends.
   */
  lagSearch(on: boolean): void;
  close(): Promise<void>;
}

export async function startHubSpotFake(options: HubSpotFakeOptions = {}): Promise<HubSpotFake> {
  let accessToken = options.accessToken ?? 'pat-na1-00000000-0000-4000-8000-000000000000';
  let refreshes = 0;
  const portalId = options.portalId ?? 62515;
  const authCodes = new Map<string, string>();
  const calls: FakeCall[] = [];
  const objects: Record<ObjectType, Map<string, HsObject>> = {
    contacts: new Map(),
    communications: new Map(),
    tasks: new Map(),
    notes: new Map(),
    deals: new Map(),
  };
  const groups: Record<ObjectType, Map<string, { name: string; label: string; displayOrder: number }>> = {
    contacts: new Map([
      ['contactinformation', { name: 'contactinformation', label: 'Contact information', displayOrder: 0 }],
    ]),
    communications: new Map([
      [
        'communicationinformation',
        { name: 'communicationinformation', label: 'Communication information', displayOrder: 0 },
      ],
    ]),
    tasks: new Map([
      ['taskinformation', { name: 'taskinformation', label: 'Task information', displayOrder: 0 }],
    ]),
    notes: new Map([
      ['noteinformation', { name: 'noteinformation', label: 'Note information', displayOrder: 0 }],
    ]),
    deals: new Map([
      ['dealinformation', { name: 'dealinformation', label: 'Deal information', displayOrder: 0 }],
    ]),
  };
  const properties: Record<ObjectType, Map<string, PropertyDef>> = {
    contacts: new Map(),
    communications: new Map(),
    tasks: new Map(),
    notes: new Map(),
    deals: new Map(),
  };
  const owners = new Map<
    string,
    { id: string; email: string; firstName: string; lastName: string; userId: number; createdAt: string }
  >();
  let nextOwnerId = 7_000_001;
  const faults: { fault: HubSpotFault; match: (method: string, path: string) => boolean }[] = [];
  let expired = false;
  let failKeys = new Set<string>();
  /** Ids created while search lags, not yet in the search index. */
  let unindexed: Set<string> | null = null;
  let nextId = 100;
  let lastStamp = 0;
  let dailyUsed = 0;

  /** Strictly increasing timestamps, so "modified after" watermarks are exact. */
  const stamp = () => {
    lastStamp = Math.max(Date.now(), lastStamp + 1);
    return new Date(lastStamp).toISOString();
  };
  for (const type of OBJECT_TYPES) {
    for (const [name, kind] of BUILT_IN[type]) {
      const at = stamp();
      properties[type].set(name, {
        name,
        label: name,
        type: kind,
        fieldType: kind === 'datetime' ? 'date' : kind === 'enumeration' ? 'select' : 'text',
        groupName: BUILT_IN_GROUP[type],
        description: '',
        hidden: false,
        hubspotDefined: true,
        options: (BUILT_IN_OPTIONS[name] ?? []).map((value, displayOrder) => ({
          label: value,
          value,
          displayOrder,
          hidden: false,
        })),
        createdAt: at,
        updatedAt: at,
      });
    }
  }

  const normaliseValue = (type: ObjectType, name: string, value: unknown): string | null => {
    const def = properties[type].get(name);
    if (def === undefined) {
      throw new HttpError(
        400,
        errorBody(
          `Property values were not valid: [{"isValid":false,"message":"Property \\"${name}\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"${name}"}]`,
          'VALIDATION_ERROR',
          {
            errors: [
              {
                message: `Property "${name}" does not exist`,
                code: 'PROPERTY_DOESNT_EXIST',
                context: { propertyName: [name] },
              },
            ],
          },
        ),
      );
    }
    if (READ_ONLY.has(name)) {
      throw new HttpError(
        400,
        errorBody(`Property "${name}" is read-only`, 'VALIDATION_ERROR', {
          errors: [{ message: 'read-only', code: 'READ_ONLY_VALUE' }],
        }),
      );
    }
    if (value === null || value === '') return null;
    const text = String(value);
    if (def.type === 'number' && !Number.isFinite(Number(text))) {
      throw new HttpError(
        400,
        errorBody(`${text} is not a valid number for ${name}`, 'VALIDATION_ERROR', {
          errors: [{ message: 'invalid number', code: 'INVALID_DOUBLE' }],
        }),
      );
    }
    if (def.type === 'datetime') {
      const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
      if (Number.isNaN(ms))
        throw new HttpError(
          400,
          errorBody(`${text} is not a valid datetime for ${name}`, 'VALIDATION_ERROR', {
            errors: [{ message: 'invalid datetime', code: 'INVALID_DATE' }],
          }),
        );
      return new Date(ms).toISOString();
    }
    // Owners are the options of hubspot_owner_id; HubSpot-defined enumerations without listed
    // options (time zones, channel types) are not checked here.
    const allowed = name === 'hubspot_owner_id' ? [...owners.keys()] : def.options.map((o) => o.value);
    if (
      def.type === 'enumeration' &&
      (allowed.length > 0 || name === 'hubspot_owner_id') &&
      !allowed.includes(text)
    ) {
      throw new HttpError(
        400,
        errorBody(`${text} was not one of the allowed options for ${name}`, 'VALIDATION_ERROR', {
          errors: [{ message: 'invalid option', code: 'INVALID_OPTION' }],
        }),
      );
    }
    return text;
  };

  const applyProps = (type: ObjectType, target: Props, input: unknown) => {
    if (typeof input !== 'object' || input === null)
      throw new HttpError(400, errorBody('properties must be an object', 'VALIDATION_ERROR'));
    const next: Props = {};
    for (const [name, value] of Object.entries(input)) next[name] = normaliseValue(type, name, value);
    Object.assign(target, next);
  };

  const calculated = (o: HsObject) => {
    o.properties.hs_searchable_calculated_phone_number = searchableDigits(o.properties.phone ?? null);
    o.properties.hs_searchable_calculated_mobile_number = searchableDigits(o.properties.mobilephone ?? null);
  };

  const create = (type: ObjectType, props: unknown): HsObject => {
    const id = String(nextId++);
    const at = stamp();
    const o: HsObject = {
      id,
      properties: {},
      createdAt: at,
      updatedAt: at,
      associations: [],
      dealAssociations: [],
    };
    applyProps(type, o.properties, props);
    unindexed?.add(id);
    o.properties.hs_object_id = id;
    o.properties[CREATED[type]] = at;
    o.properties[MODIFIED[type]] = at;
    if (type === 'contacts') calculated(o);
    return o;
  };

  const touch = (type: ObjectType, o: HsObject) => {
    o.updatedAt = stamp();
    o.properties[MODIFIED[type]] = o.updatedAt;
    if (type === 'contacts') calculated(o);
  };

  const view = (o: HsObject, names: readonly string[] | null) => {
    const props: Props = {};
    const wanted = names ?? ['hs_object_id', 'createdate', 'lastmodifieddate'];
    for (const n of new Set([...wanted, 'hs_object_id']))
      if (n in o.properties || names !== null) props[n] = o.properties[n] ?? null;
    return { id: o.id, properties: props, createdAt: o.createdAt, updatedAt: o.updatedAt, archived: false };
  };

  const propertyView = (p: PropertyDef) => ({
    updatedAt: p.updatedAt,
    createdAt: p.createdAt,
    name: p.name,
    label: p.label,
    type: p.type,
    fieldType: p.fieldType,
    description: p.description,
    groupName: p.groupName,
    options: p.options,
    displayOrder: -1,
    calculated: false,
    externalOptions: false,
    hasUniqueValue: false,
    hidden: p.hidden,
    hubspotDefined: p.hubspotDefined,
    modificationMetadata: {
      archivable: true,
      readOnlyDefinition: p.hubspotDefined,
      readOnlyValue: READ_ONLY.has(p.name),
    },
    formField: false,
  });

  const compare = (
    type: ObjectType,
    name: string,
    stored: string | null | undefined,
    filter: Record<string, unknown>,
  ): boolean => {
    const op = filter.operator;
    if (op === 'HAS_PROPERTY') return stored !== null && stored !== undefined && stored !== '';
    if (op === 'NOT_HAS_PROPERTY') return stored === null || stored === undefined || stored === '';
    if (stored === null || stored === undefined) return op === 'NEQ';
    const isDate = properties[type].get(name)?.type === 'datetime';
    const asValue = (v: unknown) => {
      const t = String(v);
      if (isDate) return /^\d+$/.test(t) ? Number(t) : Date.parse(t);
      return t.toLowerCase();
    };
    const left = isDate ? Date.parse(stored) : stored.toLowerCase();
    const right = asValue(filter.value);
    switch (op) {
      case 'EQ':
        return left === right;
      case 'NEQ':
        return left !== right;
      case 'GT':
        return left > right;
      case 'GTE':
        return left >= right;
      case 'LT':
        return left < right;
      case 'LTE':
        return left <= right;
      case 'IN':
        return Array.isArray(filter.values) && filter.values.map(asValue).includes(left);
      default:
        throw new HttpError(400, errorBody(`Unsupported operator ${String(op)}`, 'VALIDATION_ERROR'));
    }
  };

  const search = (type: ObjectType, body: Record<string, unknown>) => {
    const groupsIn = Array.isArray(body.filterGroups) ? body.filterGroups : [];
    const limit = typeof body.limit === 'number' ? body.limit : 10;
    const after = typeof body.after === 'string' ? Number.parseInt(body.after, 10) : 0;
    if (limit > 200) throw new HttpError(400, errorBody('limit must be at most 200', 'VALIDATION_ERROR'));
    if (groupsIn.length > 5)
      throw new HttpError(400, errorBody('Too many filter groups (max 5)', 'VALIDATION_ERROR'));
    const filterGroups = groupsIn.map((g: unknown) => {
      const filters =
        typeof g === 'object' && g !== null && Array.isArray((g as { filters?: unknown }).filters)
          ? (g as { filters: Record<string, unknown>[] }).filters
          : [];
      if (filters.length > 6)
        throw new HttpError(400, errorBody('Too many filters in a group (max 6)', 'VALIDATION_ERROR'));
      for (const f of filters) {
        if (!properties[type].has(String(f.propertyName)))
          throw new HttpError(
            400,
            errorBody(
              `There was a problem with the request: property ${String(f.propertyName)} does not exist`,
              'VALIDATION_ERROR',
            ),
          );
        if (Array.isArray(f.values) && f.values.length > 100)
          throw new HttpError(400, errorBody('IN filters take at most 100 values', 'VALIDATION_ERROR'));
      }
      return filters;
    });
    if (after + limit > 10_000)
      throw new HttpError(400, errorBody('Search results are limited to 10,000', 'VALIDATION_ERROR'));
    let matches = [...objects[type].values()]
      .filter((o) => !unindexed?.has(o.id))
      .filter(
        (o) =>
          filterGroups.length === 0 ||
          filterGroups.some((fs) =>
            fs.every((f) => compare(type, String(f.propertyName), o.properties[String(f.propertyName)], f)),
          ),
      );
    const sorts = Array.isArray(body.sorts) ? body.sorts : [];
    const sort = sorts[0] as { propertyName?: string; direction?: string } | string | undefined;
    const sortName =
      typeof sort === 'string' ? sort.replace(/^-/, '') : (sort?.propertyName ?? 'hs_object_id');
    const descending = typeof sort === 'string' ? sort.startsWith('-') : sort?.direction === 'DESCENDING';
    matches = matches.sort((a, b) => {
      const x = a.properties[sortName] ?? '';
      const y = b.properties[sortName] ?? '';
      const primary = sortName === 'hs_object_id' ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
      return (descending ? -primary : primary) || Number(a.id) - Number(b.id);
    });
    const names = Array.isArray(body.properties) ? body.properties.map(String) : null;
    const page = matches.slice(after, after + limit);
    const next =
      after + limit < matches.length ? { paging: { next: { after: String(after + limit), link: '' } } } : {};
    return { total: matches.length, results: page.map((o) => view(o, names)), ...next };
  };

  const batchCreate = (type: ObjectType, body: Record<string, unknown>) => {
    const inputs = Array.isArray(body.inputs) ? (body.inputs as Record<string, unknown>[]) : [];
    if (inputs.length > 100)
      throw new HttpError(400, errorBody('Batch input limit is 100', 'VALIDATION_ERROR'));
    const refusing = failKeys;
    failKeys = new Set();
    const startedAt = new Date().toISOString();
    // Validate everything first: HubSpot rejects a batch with an invalid property as a whole.
    const prepared = inputs.map((input) => {
      const o = create(type, input.properties);
      const associations = Array.isArray(input.associations)
        ? (input.associations as Record<string, unknown>[])
        : [];
      for (const a of associations) {
        const to = String((a.to as { id?: unknown } | undefined)?.id ?? '');
        const types = Array.isArray(a.types) ? (a.types as { associationTypeId?: unknown }[]) : [];
        if (!types.some((t) => t.associationTypeId === 81) || !objects.contacts.has(to)) {
          throw new HttpError(
            400,
            errorBody(`Invalid association to contact ${to}`, 'VALIDATION_ERROR', {
              errors: [{ message: 'invalid association', code: 'INVALID_ASSOCIATION' }],
            }),
          );
        }
        o.associations.push(to);
      }
      return o;
    });
    const results: ReturnType<typeof view>[] = [];
    const errors: unknown[] = [];
    for (const o of prepared) {
      const key = o.properties.sms_relay_message_id ?? '';
      if (refusing.has(key)) {
        errors.push({
          status: 'error',
          category: 'INTERNAL_ERROR',
          message: `Could not create communication (sms_relay_message_id=${key})`,
          context: { sms_relay_message_id: [key] },
        });
        continue;
      }
      objects[type].set(o.id, o);
      results.push(view(o, Object.keys(o.properties)));
    }
    const completedAt = new Date().toISOString();
    if (errors.length > 0)
      return {
        status: 207,
        body: { status: 'COMPLETE', results, numErrors: errors.length, errors, startedAt, completedAt },
      };
    return { status: 201, body: { status: 'COMPLETE', results, startedAt, completedAt } };
  };

  const batchUpdate = (type: ObjectType, body: Record<string, unknown>) => {
    const inputs = Array.isArray(body.inputs) ? (body.inputs as Record<string, unknown>[]) : [];
    if (inputs.length > 100)
      throw new HttpError(400, errorBody('Batch input limit is 100', 'VALIDATION_ERROR'));
    const startedAt = new Date().toISOString();
    const results: ReturnType<typeof view>[] = [];
    const errors: unknown[] = [];
    for (const input of inputs) {
      const o = objects[type].get(String(input.id));
      if (o === undefined) {
        errors.push({
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          message: `Could not get some ${type} objects, they may be deleted or not exist. Check that ids are valid.`,
          context: { ids: [String(input.id)] },
        });
        continue;
      }
      applyProps(type, o.properties, input.properties);
      touch(type, o);
      results.push(view(o, Object.keys(o.properties)));
    }
    const completedAt = new Date().toISOString();
    if (errors.length > 0)
      return {
        status: 207,
        body: { status: 'COMPLETE', results, numErrors: errors.length, errors, startedAt, completedAt },
      };
    return { status: 200, body: { status: 'COMPLETE', results, startedAt, completedAt } };
  };

  /** A create without a required property fails whole, in HubSpot's property-validation shape. */
  const requireProperties = (type: ObjectType, o: HsObject) => {
    const missing = (REQUIRED[type] ?? []).filter((name) => (o.properties[name] ?? null) === null);
    if (missing.length === 0) return;
    const detail = missing.map((name) => ({
      isValid: false,
      message: `${name} is required`,
      error: 'REQUIRED_FIELD',
      name,
    }));
    throw new HttpError(
      400,
      errorBody(`Property values were not valid: ${JSON.stringify(detail)}`, 'VALIDATION_ERROR', {
        errors: missing.map((name) => ({
          message: `${name} is required`,
          code: 'REQUIRED_FIELD',
          context: { propertyName: [name] },
        })),
      }),
    );
  };

  /**
   * The contacts (and, for notes, deals) a single create associates the new object with. Only the
   * HubSpot-defined types from this object are accepted; a record that does not exist is a 404.
   */
  const associationTargets = (type: ObjectType, input: unknown): { contacts: string[]; deals: string[] } => {
    const out = { contacts: [] as string[], deals: [] as string[] };
    if (input === undefined) return out;
    if (!Array.isArray(input))
      throw new HttpError(400, errorBody('associations must be an array', 'VALIDATION_ERROR'));
    for (const a of input as unknown[]) {
      const entry = (typeof a === 'object' && a !== null ? a : {}) as Record<string, unknown>;
      const to = String((entry.to as { id?: unknown } | undefined)?.id ?? '');
      const types = Array.isArray(entry.types) ? (entry.types as Record<string, unknown>[]) : [];
      const target = (['contacts', 'deals'] as const).find(
        (t) =>
          types.length > 0 &&
          types.every(
            (x) =>
              x.associationCategory === 'HUBSPOT_DEFINED' &&
              x.associationTypeId === (t === 'contacts' ? TO_CONTACT[type] : TO_DEAL[type]),
          ),
      );
      if (target === undefined) {
        throw new HttpError(
          400,
          errorBody(`Invalid association type(s) ${JSON.stringify(types)} from ${type}`, 'VALIDATION_ERROR', {
            errors: [{ message: 'invalid association type', code: 'INVALID_ASSOCIATION_TYPE' }],
          }),
        );
      }
      if (!objects[target].has(to)) {
        throw new HttpError(
          404,
          errorBody(`No ${target.slice(0, -1)} with id ${to} exists to associate with.`, 'OBJECT_NOT_FOUND', {
            context: { id: [to] },
          }),
        );
      }
      out[target].push(to);
    }
    return out;
  };

  const ownerView = (o: {
    id: string;
    email: string;
    firstName: string;
    lastName: string;
    userId: number;
    createdAt: string;
  }) => ({
    id: o.id,
    email: o.email,
    type: 'PERSON',
    firstName: o.firstName,
    lastName: o.lastName,
    userId: o.userId,
    userIdIncludingInactive: o.userId,
    createdAt: o.createdAt,
    updatedAt: o.createdAt,
    archived: false,
    teams: [],
  });

  const objectType = (raw: string | undefined): ObjectType => {
    const known = OBJECT_TYPES.find((t) => t === raw);
    if (known !== undefined) return known;
    throw new HttpError(400, errorBody(`Unable to infer object type from: ${raw}`, 'VALIDATION_ERROR'));
  };

  const route = (
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
  ): { status: number; body?: unknown } => {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    // /crm/v3/properties/{type}[/groups][/{name}]
    if (parts[0] === 'crm' && parts[1] === 'v3' && parts[2] === 'properties') {
      const type = objectType(parts[3]);
      if (parts[4] === 'groups') {
        const name = parts[5];
        if (method === 'GET' && name === undefined)
          return {
            status: 200,
            body: { results: [...groups[type].values()].map((g) => ({ ...g, archived: false })) },
          };
        if (method === 'POST' && name === undefined) {
          const gname = String(b.name ?? '');
          if (groups[type].has(gname))
            return {
              status: 409,
              body: errorBody(`A property group named '${gname}' already exists.`, 'OBJECT_ALREADY_EXISTS'),
            };
          const g = {
            name: gname,
            label: String(b.label ?? gname),
            displayOrder: Number(b.displayOrder ?? -1),
          };
          groups[type].set(gname, g);
          return { status: 201, body: { ...g, archived: false } };
        }
        if (method === 'DELETE' && name !== undefined) {
          if (!groups[type].delete(name))
            return {
              status: 404,
              body: errorBody(`Property group ${name} does not exist`, 'OBJECT_NOT_FOUND'),
            };
          return { status: 204 };
        }
      } else {
        const name = parts[4];
        if (method === 'GET' && name === undefined)
          return { status: 200, body: { results: [...properties[type].values()].map(propertyView) } };
        if (method === 'POST' && name === undefined) {
          const pname = String(b.name ?? '');
          if (properties[type].has(pname))
            return {
              status: 409,
              body: errorBody(`Property named '${pname}' already exists.`, 'OBJECT_ALREADY_EXISTS'),
            };
          if (!groups[type].has(String(b.groupName)))
            return {
              status: 400,
              body: errorBody(`group ${String(b.groupName)} does not exist`, 'VALIDATION_ERROR'),
            };
          if (!['string', 'datetime', 'enumeration', 'number', 'date', 'bool'].includes(String(b.type)))
            return { status: 400, body: errorBody('invalid type', 'VALIDATION_ERROR') };
          const at = stamp();
          const def: PropertyDef = {
            name: pname,
            label: String(b.label ?? pname),
            type: String(b.type),
            fieldType: String(b.fieldType),
            groupName: String(b.groupName),
            description: String(b.description ?? ''),
            hidden: b.hidden === true,
            hubspotDefined: false,
            options: Array.isArray(b.options) ? (b.options as PropertyDef['options']) : [],
            createdAt: at,
            updatedAt: at,
          };
          if (def.type === 'enumeration' && def.options.length === 0)
            return { status: 400, body: errorBody('enumeration needs options', 'VALIDATION_ERROR') };
          properties[type].set(pname, def);
          return { status: 201, body: propertyView(def) };
        }
        if (method === 'DELETE' && name !== undefined) {
          const def = properties[type].get(name);
          if (def === undefined)
            return { status: 404, body: errorBody(`Unable to find property ${name}`, 'OBJECT_NOT_FOUND') };
          if (def.hubspotDefined)
            return {
              status: 400,
              body: errorBody(`${name} is a HubSpot-defined property`, 'VALIDATION_ERROR'),
            };
          properties[type].delete(name);
          for (const o of objects[type].values()) delete o.properties[name];
          return { status: 204 };
        }
      }
    }
    // /crm/v3/objects/{type}/...
    if (parts[0] === 'crm' && parts[1] === 'v3' && parts[2] === 'objects') {
      const type = objectType(parts[3]);
      if (method === 'POST' && parts[4] === 'search') return { status: 200, body: search(type, b) };
      if (method === 'POST' && parts.length === 4) {
        const o = create(type, b.properties);
        requireProperties(type, o);
        const targets = associationTargets(type, b.associations);
        o.associations.push(...targets.contacts);
        o.dealAssociations.push(...targets.deals);
        if (type === 'contacts') calculated(o);
        objects[type].set(o.id, o);
        return { status: 201, body: view(o, Object.keys(o.properties)) };
      }
      if (method === 'POST' && parts[4] === 'batch' && parts[5] === 'create') return batchCreate(type, b);
      if (method === 'POST' && parts[4] === 'batch' && parts[5] === 'update') return batchUpdate(type, b);
      const id = parts[4];
      if (id !== undefined && parts.length === 5) {
        const o = objects[type].get(id);
        if (o === undefined)
          return {
            status: 404,
            body: errorBody('Object not found.  objectId are usually numeric.', 'OBJECT_NOT_FOUND'),
          };
        if (method === 'GET')
          return {
            status: 200,
            body: view(
              o,
              query.getAll('properties').flatMap((p) => p.split(',')),
            ),
          };
        if (method === 'PATCH') {
          applyProps(type, o.properties, b.properties);
          touch(type, o);
          return { status: 200, body: view(o, Object.keys(o.properties)) };
        }
      }
    }
    // /crm/v3/owners/ (the SDK always sends the trailing slash): active owners, filterable by email.
    if (parts[0] === 'crm' && parts[1] === 'v3' && parts[2] === 'owners' && parts.length === 3) {
      if (method === 'GET') {
        const email = query.get('email')?.toLowerCase() ?? null;
        const limit = Number.parseInt(query.get('limit') ?? '100', 10);
        const after = Number.parseInt(query.get('after') ?? '0', 10);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          throw new HttpError(400, errorBody('limit must be between 1 and 500', 'VALIDATION_ERROR'));
        const all = [...owners.values()].filter((o) => email === null || o.email.toLowerCase() === email);
        const page = all.slice(after, after + limit);
        const next =
          after + limit < all.length ? { paging: { next: { after: String(after + limit), link: '' } } } : {};
        return { status: 200, body: { results: page.map(ownerView), ...next } };
      }
    }
    // /crm/v3/owners/{ownerId}?idProperty=id|userId&archived=false: one owner, 404 when unknown.
    if (
      parts[0] === 'crm' &&
      parts[1] === 'v3' &&
      parts[2] === 'owners' &&
      parts.length === 4 &&
      method === 'GET'
    ) {
      const wanted = parts[3] ?? '';
      const byUserId = query.get('idProperty') === 'userId';
      const found = [...owners.values()].find((o) => (byUserId ? String(o.userId) : o.id) === wanted);
      if (found === undefined)
        throw new HttpError(404, errorBody(`Owner ${wanted} not found`, 'OBJECT_NOT_FOUND'));
      return { status: 200, body: ownerView(found) };
    }
    return { status: 404, body: errorBody(`No route for ${method} ${path}`, 'OBJECT_NOT_FOUND') };
  };

  const rateHeaders = (): Record<string, string> => ({
    'x-hubspot-ratelimit-daily': '250000',
    'x-hubspot-ratelimit-daily-remaining': String(250_000 - dailyUsed),
    'x-hubspot-ratelimit-interval-milliseconds': '10000',
    'x-hubspot-ratelimit-max': '190',
    'x-hubspot-ratelimit-remaining': '189',
    'x-hubspot-ratelimit-secondly': '19',
    'x-hubspot-ratelimit-secondly-remaining': '18',
  });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = req.method ?? 'GET';
      const isSearch = url.pathname.endsWith('/search');
      const send = (status: number, body?: unknown, extra: Record<string, string> = {}) => {
        calls.push({ method, path: url.pathname, status });
        const headers: Record<string, string> = { ...(isSearch ? {} : rateHeaders()), ...extra };
        if (body === undefined) {
          res.writeHead(status, headers).end();
        } else {
          res
            .writeHead(status, { ...headers, 'content-type': 'application/json;charset=utf-8' })
            .end(JSON.stringify(body));
        }
      };
      dailyUsed += 1;
      if (method === 'POST' && url.pathname === '/oauth/v1/token') {
        // Form-encoded, no Authorization header (reference §2.2).
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const app = options.oauth;
        if (form.get('grant_type') === 'authorization_code') {
          const code = form.get('code') ?? '';
          const redirect = authCodes.get(code);
          authCodes.delete(code);
          if (
            app === undefined ||
            redirect === undefined ||
            redirect !== form.get('redirect_uri') ||
            form.get('client_id') !== app.clientId ||
            form.get('client_secret') !== app.clientSecret
          ) {
            send(400, { status: 'BAD_AUTH_CODE', message: 'missing or unknown auth code' });
            return;
          }
          refreshes += 1;
          accessToken = `oauth-na1-${refreshes}-${randomUUID()}`;
          expired = false;
          send(200, {
            token_type: 'bearer',
            refresh_token: app.refreshToken,
            access_token: accessToken,
            expires_in: 1800,
          });
          return;
        }
        if (
          app === undefined ||
          form.get('grant_type') !== 'refresh_token' ||
          form.get('client_id') !== app.clientId ||
          form.get('client_secret') !== app.clientSecret ||
          form.get('refresh_token') !== app.refreshToken
        ) {
          send(400, { status: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token' });
          return;
        }
        refreshes += 1;
        accessToken = `oauth-na1-${refreshes}-${randomUUID()}`;
        expired = false;
        send(200, {
          token_type: 'bearer',
          refresh_token: app.refreshToken,
          access_token: accessToken,
          expires_in: 1800,
        });
        return;
      }
      // Token metadata: the token is the credential, in the path, with no Authorization header.
      const tokenInfo = /^\/oauth\/v1\/access-tokens\/([^/]+)$/.exec(url.pathname);
      if (method === 'GET' && tokenInfo !== null) {
        if (decodeURIComponent(tokenInfo[1] ?? '') !== accessToken || expired) {
          send(404, { status: 'error', message: 'Token not found', category: 'OBJECT_NOT_FOUND' });
          return;
        }
        send(200, {
          token: accessToken,
          user: 'admin@example.com',
          hub_domain: 'example.com',
          scopes: ['crm.objects.contacts.read', 'crm.objects.contacts.write'],
          hub_id: portalId,
          app_id: 1,
          expires_in: 1800,
          user_id: 1,
          token_type: 'access',
        });
        return;
      }
      if (req.headers.authorization !== `Bearer ${accessToken}`) {
        send(
          401,
          errorBody(
            'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
            'INVALID_AUTHENTICATION',
          ),
        );
        return;
      }
      if (expired) {
        send(
          401,
          errorBody(
            'The OAuth token used to make this call expired 2 minute(s) ago.',
            'EXPIRED_AUTHENTICATION',
          ),
        );
        return;
      }
      const faultIndex = faults.findIndex((f) => f.match(method, url.pathname));
      if (faultIndex >= 0) {
        const fault = faults.splice(faultIndex, 1)[0]?.fault as HubSpotFault;
        if (fault.kind === 'expired_token') {
          send(
            401,
            errorBody(
              'The OAuth token used to make this call expired 2 minute(s) ago.',
              'EXPIRED_AUTHENTICATION',
            ),
          );
        } else if (fault.kind === 'missing_scopes') {
          send(
            403,
            errorBody(
              "This app hasn't been granted all required scopes to make this call.",
              'MISSING_SCOPES',
              {
                errors: [{ message: 'missing scopes', code: 'MISSING_SCOPES' }],
              },
            ),
          );
        } else if (fault.kind === 'server_error') {
          send(fault.status, errorBody('internal error', 'INTERNAL_ERROR'));
        } else {
          const message =
            fault.policy === 'DAILY'
              ? 'You have reached your daily limit.'
              : fault.policy === 'SECONDLY'
                ? 'You have reached your secondly limit.'
                : 'You have reached your ten_secondly_rolling limit.';
          send(
            429,
            {
              status: 'error',
              message,
              errorType: 'RATE_LIMIT',
              correlationId: randomUUID(),
              policyName: fault.policy,
              requestId: randomUUID(),
            },
            {
              ...(fault.retryAfterSeconds === undefined
                ? {}
                : { 'retry-after': String(fault.retryAfterSeconds) }),
              'x-hubspot-ratelimit-remaining': '0',
              'x-hubspot-ratelimit-secondly-remaining': '0',
              ...(fault.policy === 'DAILY' ? { 'x-hubspot-ratelimit-daily-remaining': '0' } : {}),
            },
          );
        }
        return;
      }
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = {};
        if (text !== '') {
          try {
            body = JSON.parse(text);
          } catch {
            throw new HttpError(400, errorBody('Invalid input JSON on line 1', 'VALIDATION_ERROR'));
          }
        }
        const out = route(method, url.pathname, url.searchParams, body);
        send(out.status, out.body);
      } catch (error) {
        if (error instanceof HttpError) send(error.status, error.body);
        else
          send(500, errorBody(error instanceof Error ? error.message : 'internal error', 'INTERNAL_ERROR'));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    portalId,
    get accessToken() {
      return accessToken;
    },
    issueAuthCode(redirectUri: string) {
      const code = `code-${randomUUID()}`;
      authCodes.set(code, redirectUri);
      return code;
    },
    get refreshes() {
      return refreshes;
    },
    calls,
    callCount: (filter) => (filter === undefined ? calls.length : calls.filter(filter).length),
    resetCalls: () => {
      calls.length = 0;
    },
    addContact(props) {
      const { phone, mobilephone, ...rest } = props;
      const o = create('contacts', rest);
      o.properties.phone = phone ?? null;
      o.properties.mobilephone = mobilephone ?? null;
      calculated(o);
      objects.contacts.set(o.id, o);
      return o.id;
    },
    setContactProperty(id, name, value) {
      const o = objects.contacts.get(id);
      if (o === undefined) throw new Error(`no contact ${id}`);
      applyProps('contacts', o.properties, { [name]: value });
      touch('contacts', o);
    },
    contact: (id) => objects.contacts.get(id),
    communications: () => [...objects.communications.values()],
    tasks: () => [...objects.tasks.values()],
    notes: () => [...objects.notes.values()],
    addDeal(props) {
      const o = create('deals', props);
      objects.deals.set(o.id, o);
      return o.id;
    },
    deal: (id) => objects.deals.get(id),
    addOwner({ email, firstName, lastName }) {
      const id = String(nextOwnerId++);
      owners.set(id, {
        id,
        email,
        firstName: firstName ?? '',
        lastName: lastName ?? '',
        userId: Number(id) + 1_000_000,
        createdAt: stamp(),
      });
      return id;
    },
    ownerEmail: (id) => owners.get(id)?.email,
    propertyNames: (type) => [...properties[type].keys()],
    injectFaults(list, match = () => true) {
      for (const fault of list) faults.push({ fault, match });
    },
    expireToken() {
      expired = true;
    },
    renewToken() {
      expired = false;
    },
    lagSearch(on) {
      unindexed = on ? new Set() : null;
    },
    failNextCommunicationsFor(keys) {
      failKeys = new Set(keys);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
