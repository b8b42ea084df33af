import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import fc from 'fast-check';
import Fastify, { type HTTPMethods, type LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrmRegistry } from '../../crm-plugins/registry.ts';
import { BODY_LIMIT_BYTES } from '../../server/app.ts';
import { staticCrms } from '../../server/crm-sync/org-crms.ts';
import type { Database } from '../../server/db/database.ts';
import type { Access } from '../../server/http/access.ts';
import type { Deps } from '../../server/http/services.ts';
import { validatorCompiler } from '../../server/http/validation.ts';
import { parsePosition } from '../../server/live/event-position.ts';
import { EventHub } from '../../server/live/events.ts';
import { Notifier } from '../../server/live/notifier.ts';
import { OutgoingMail } from '../../server/mail/outgoing.ts';
import { SandboxMailTransport } from '../../server/mail/transport.ts';
import { DEFAULT_COUNTRY, parsePhoneInput } from '../../server/phone.ts';
import { ROUTE_MODULES } from '../../server/routes/registry.ts';
import { SendBatcher } from '../../server/workers/send-batcher.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  CUSTOMER,
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

/**
 * Throws a few thousand generated bad requests at every route. Whatever arrives, the relay must
 * answer below 500, in the error envelope for 4xx, and change nothing in the database.
 */

const SEED = 20_261_122;
const RUNS_PER_ROUTE = 110; // each run sends two requests: with the owner key and with junk/no auth
const REQUEST_TIMEOUT_MS = 5000;

/** A number that passes checkE164 but is not the org's sender, and one that is not opted in. */
const FOREIGN_VALID_NUMBER = '+13125550178';

interface RouteInfo {
  method: HTTPMethods;
  url: string;
  access: Access | undefined;
}

/** The route table as the route modules declare it (registered on a bare Fastify with an onRoute hook). */
async function collectRoutes(deps: Deps): Promise<RouteInfo[]> {
  const probe = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
  probe.setValidatorCompiler(validatorCompiler);
  const routes: RouteInfo[] = [];
  probe.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue; // Fastify's automatic HEAD twin of each GET
      routes.push({ method, url: route.url ?? route.path, access: route.config?.access });
    }
  });
  for (const register of Object.values(ROUTE_MODULES)) register(probe, deps);
  await probe.ready();
  await probe.close();
  return routes;
}

/** Method count per the real app's router, from printRoutes (HEAD twins left out). */
function methodsInPrintout(printout: string): number {
  return [...printout.matchAll(/\(([A-Z, ]+)\)/g)]
    .flatMap((m) => (m[1] as string).split(', '))
    .filter((m) => m !== 'HEAD').length;
}

async function rowCounts(db: Database): Promise<Record<string, number>> {
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const counts: Record<string, number> = {};
  for (const { table_name } of tables) {
    const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table_name}"`);
    counts[table_name] = rows[0]?.n ?? -1;
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const NASTY_STRINGS = [
  '',
  ' ',
  '\t\n',
  '\u0000',
  '☃',
  '𝕏𝕐',
  '\u202eevil',
  '\uFEFF',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '../../etc/passwd',
  "' OR 1=1 --",
  '"; DROP TABLE messages; --',
  '%00',
  '%',
  '%E0%A4%A',
  '<script>alert(1)</script>',
  `\${jndi:ldap://x}`,
  '__proto__',
  'constructor',
  '00000000-0000-0000-0000-000000000000',
  '------------------------------------',
];

const junkString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
);

/**
 * Phone numbers the relay must refuse, checked against the relay's own reading of a typed number
 * (national forms such as "(202) 555-0143" read in the default country, US, and are accepted).
 */
const badPhone: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(
      '',
      '+',
      '12025550143',
      '+1 202 555 0143',
      '+1-202-555-0143',
      '(202) 555-0143',
      '+0123456789',
      '+1234567',
      '+999123456',
      '+12025550143999999',
      '+١٢٠٢٥٥٥٠١٤٣',
      '+12025550143\n',
      '+1202555014x',
      ' +12025550143',
    ),
    fc.stringMatching(/^\+[1-9][0-9]{6,14}$/),
    fc.stringMatching(/^\+?[0-9 ()-]{0,20}$/),
    junkString,
  )
  .filter((phone) => !parsePhoneInput(phone, DEFAULT_COUNTRY).ok);

const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);

const hugeString: fc.Arbitrary<string> = fc
  .integer({ min: BODY_LIMIT_BYTES - 200, max: BODY_LIMIT_BYTES + 4096 })
  .chain((n) => fc.constantFrom('x', 'é', '😀').map((ch) => ch.repeat(Math.ceil(n / Buffer.byteLength(ch)))));

interface Payload {
  contentType: string | undefined;
  raw: string;
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/vnd.api+json',
  '*/*',
  '',
  ';;;',
];

const MALFORMED_JSON = [
  '{',
  '}',
  '{"a":',
  '[1,',
  '{"phone":}',
  "{'phone':'+12025550143'}",
  'nul',
  'tru',
  '{"a":1}garbage',
  '{"a":1,}',
  '\uFEFF{}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":"\\ud800"}',
  '"\\u0000"',
  '[]',
  '0',
  '""',
  'null',
];

const formEncoded = (entries: [string, string][]) => new URLSearchParams(entries).toString();

/** A body that is junk whatever the route: malformed JSON, wrong types, random text, forms, huge. */
const junkPayload: fc.Arbitrary<Payload> = fc.oneof(
  fc.record({
    contentType: fc.constantFrom(...CONTENT_TYPES, undefined),
    raw: fc.constantFrom(...MALFORMED_JSON),
  }),
  fc.record({ contentType: fc.constantFrom(...CONTENT_TYPES), raw: fc.string({ maxLength: 200 }) }),
  fc.record({ contentType: fc.constant('application/json'), raw: wrongType.map((v) => JSON.stringify(v)) }),
  fc.record({
    contentType: fc.constant('application/json'),
    raw: fc
      .dictionary(junkString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 })
      .map((v) => JSON.stringify(v)),
  }),
  fc.record({
    contentType: fc.constant('application/x-www-form-urlencoded'),
    raw: fc.oneof(
      fc.array(fc.tuple(junkString, junkString), { maxLength: 5 }).map(formEncoded),
      fc.constantFrom('%', '%zz=1', 'a=%E0%A4%A', '&&&=', '=x'),
    ),
  }),
  fc.record({
    contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
    raw: hugeString.map((s) => JSON.stringify({ body: s, text: s, phone: s })),
  }),
  fc.record({ contentType: fc.constantFrom('application/json', undefined), raw: hugeString }),
);

/** Applies 1–3 mutations to a valid object, every one of which makes it invalid on its own. */
function corrupted(
  valid: Record<string, unknown>,
  breakers: Record<string, fc.Arbitrary<unknown>>,
  options: { typeErrors: boolean },
): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(valid);
  type Mutation = (o: Record<string, unknown>) => void;
  const set =
    (k: string, v: unknown): Mutation =>
    (o) => {
      o[k] = v;
    };
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.constantFrom(...keys).map(
      (k): Mutation =>
        (o) => {
          delete o[k];
        },
    ),
    // A form encodes every value as text, so a wrong JSON type is only a defect in a JSON body.
    ...(options.typeErrors ? [fc.tuple(fc.constantFrom(...keys), wrongType).map(([k, v]) => set(k, v))] : []),
    fc
      .tuple(
        junkString.filter((k) => !(k in valid) && k !== '__proto__'),
        fc.jsonValue({ maxDepth: 1 }),
      )
      .map(([k, v]) => set(k, v)),
    ...Object.entries(breakers).map(([k, arb]) => arb.map((v) => set(k, v))),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => {
    const o: Record<string, unknown> = { ...valid };
    for (const m of mutations) m(o);
    return o;
  });
}

/** A corrupted valid body, sent as JSON or as a form. */
function jsonOrForm(
  valid: Record<string, unknown>,
  breakers: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<Payload> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: corrupted(valid, breakers, { typeErrors: true }).map((o) => ({
        contentType: 'application/json',
        raw: JSON.stringify(o),
      })),
    },
    {
      weight: 1,
      arbitrary: corrupted(valid, breakers, { typeErrors: false }).map((o) => ({
        contentType: 'application/x-www-form-urlencoded',
        raw: formEncoded(
          Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v : (JSON.stringify(v) ?? '')]),
        ),
      })),
    },
  );
}

const badLimit = fc.constantFrom(
  '0',
  '-1',
  '101',
  '201',
  '1.5',
  'abc',
  '',
  '1e2',
  '9999999999999999999',
  '0x10',
);

const junkQueryPairs: fc.Arbitrary<[string, string][]> = fc.array(fc.tuple(junkString, junkString), {
  minLength: 1,
  maxLength: 4,
});

/** A raw query string (without "?"), with known keys holding bad values or unknown keys. */
function queryArb(known: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const knownPairs = Object.entries(known).map(([k, arb]) => arb.map((v): [string, string][] => [[k, v]]));
  return fc.oneof(
    junkQueryPairs.map(formEncoded),
    fc.constantFrom('%', '%zz', 'a=%E0%A4%A', '&', '==', 'a[b]=1', 'a=1&a=2', ';'),
    ...knownPairs.map((arb) =>
      fc
        .tuple(arb, fc.option(junkQueryPairs, { nil: undefined }))
        .map(([k, extra]) => formEncoded([...k, ...(extra ?? [])])),
    ),
  );
}

/** encodeURIComponent that survives lone surrogates (they become U+FFFD first). */
const safeEncode = (s: string) => encodeURIComponent(Buffer.from(s, 'utf8').toString('utf8'));

const base64urlJson = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** Cursors the relay never issued, including ones shaped right but holding values PostgreSQL refuses. */
const badCursor: fc.Arbitrary<string> = fc.oneof(
  junkString,
  fc.jsonValue({ maxDepth: 2 }).map(base64urlJson),
  fc
    .tuple(
      fc.constantFrom(
        '1',
        '2020',
        '0',
        '12',
        '+275760-09-13T00:00:00.000Z',
        'Tue',
        'June 1',
        '2020-01-01T00:00:00Z',
      ),
      fc.oneof(
        fc.stringMatching(/^[0-9a-f-]{36}$/),
        fc.constant('------------------------------------'),
        fc.uuid(),
      ),
    )
    .map(base64urlJson),
);

const badEventId: fc.Arbitrary<string> = fc
  .oneof(junkString, fc.stringMatching(/^[0-9_.]{1,40}$/), fc.constant('x'.repeat(8193)))
  .filter((s) => s !== '' && parsePosition(s) === null);

/** A path segment: percent-encoded junk, raw bad escapes, or one longer than Fastify's 100-char parameter limit. */
function pathParam(good: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: good },
    { weight: 3, arbitrary: junkString.filter((s) => s !== '').map(safeEncode) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%FF', '..', '.') },
    { weight: 1, arbitrary: fc.integer({ min: 90, max: 300 }).map((n) => 'a'.repeat(n)) },
  );
}

const JUNK_AUTH = [
  'Bearer',
  'Bearer ',
  'Basic dXNlcjpwYXNz',
  'Bearer ctk_',
  'Bearer ctk_aaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  `Bearer ${'a'.repeat(5000)}`,
  'Token abc',
  'Bearer a b',
];

/** Authorization that is not a valid key: absent, empty, junk or a damaged copy of the owner key. */
function junkAuth(ownerKey: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    fc.constant(''),
    fc.constantFrom(...JUNK_AUTH),
    fc.constantFrom(
      `Bearer ${ownerKey}x`,
      `Bearer ${ownerKey.slice(0, -1)}`,
      `Bearer ${ownerKey.slice(0, -1)}${ownerKey.endsWith('A') ? 'B' : 'A'}`,
      `Bearer ${ownerKey} ${ownerKey}`,
      ownerKey,
      `Basic ${ownerKey}`,
    ),
    junkString.map((s) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '')),
  );
}

const headerName = fc.stringMatching(/^x-[a-z0-9-]{1,20}$/);
const headerValue = junkString.map((s) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, ''));
const extraHeaders = fc.dictionary(headerName, headerValue, { maxKeys: 3 });

const badIdempotencyKey = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('', ' ', 'has space', 'é', 'x'.repeat(256), '\t', 'a\u007f'),
  fc.uuid(),
  headerValue,
);

// ---------------------------------------------------------------------------------------------
// Per-route fuzz specifications
// ---------------------------------------------------------------------------------------------

interface Generated {
  method: HTTPMethods;
  path: string;
  query: string | undefined;
  payload: Payload | undefined;
  headers: Record<string, string>;
}

interface Ctx {
  owner: TestOrg;
  conversationId: string;
  messageId: string;
}

interface RouteFuzz {
  /** Paths for this route (params filled). */
  path: (ctx: Ctx) => fc.Arbitrary<string>;
  query?: fc.Arbitrary<string>;
  body?: (ctx: Ctx) => fc.Arbitrary<Payload>;
  headers?: fc.Arbitrary<Record<string, string>>;
  /** Browser-facing page: a refusal may be an HTML page instead of the JSON envelope. */
  html?: boolean;
  /** Writes when given a valid request: every generated request must be refused. */
  mutating?: boolean;
  /** The owner-key request must be refused (an accepted GET /v1/events would open a stream). */
  mustRefuseWithKey?: boolean;
  /** Always send a query string (the route's query generator guarantees a defect). */
  queryRequired?: boolean;
}

const fixed = (path: string) => () => fc.constant(path);

/** Payment links: well-formed tokens no request has, and the junk pathParam adds. */
const linkToken = fc.stringMatching(/^[A-Za-z0-9_-]{22}$/);
const sandboxCheckoutId = fc.stringMatching(/^[0-9a-f]{24}$/).map((h) => `cs_sandbox_${h}`);

const validPayment = (ctx: Ctx) => ({
  from: ctx.owner.sender,
  to: CUSTOMER,
  amountMinor: 2500,
  description: 'Deposit',
});
const paymentBreakers: Record<string, fc.Arbitrary<unknown>> = {
  from: fc.oneof(badPhone, fc.constant(FOREIGN_VALID_NUMBER)),
  to: fc.oneof(badPhone, fc.constant(FOREIGN_VALID_NUMBER)),
  amountMinor: fc.constantFrom(0, -1, 1.5, 1e13, '12.50', Number.MAX_SAFE_INTEGER),
  currency: fc.constantFrom('', 'EURO', 'u$d', 'eur', 'XXX'),
  description: fc.oneof(
    fc.constantFrom('', 'a\u0000b', 'line\nbreak'),
    fc.integer({ min: 121, max: 400 }).map((n) => 'd'.repeat(n)),
  ),
  reference: fc.constantFrom('', 'r'.repeat(61), 'tab\there'),
  expiresInDays: fc.constantFrom(0, 31, 1.5, -7),
};

const FUZZ: Record<string, RouteFuzz> = {
  'GET /healthz': { path: fixed('/healthz'), query: queryArb({}) },
  'GET /openapi.json': { path: fixed('/openapi.json'), query: queryArb({}) },
  'GET /docs': { path: fixed('/docs'), query: queryArb({}) },
  'GET /v1/me': { path: fixed('/v1/me'), query: queryArb({}) },
  'GET /v1/admin/crm/:crm/install-plan': {
    path: () =>
      pathParam(fc.constantFrom('hubspot', 'zoho', 'SANDBOX')).map((c) => `/v1/admin/crm/${c}/install-plan`),
    query: queryArb({}),
  },
  'POST /v1/admin/crm/:crm/install': {
    // Only CRMs the org has not connected, or none at all: a valid install would write.
    path: () =>
      pathParam(fc.constantFrom('hubspot', 'salesforce', 'zoho')).map((c) => `/v1/admin/crm/${c}/install`),
    mutating: true,
    body: () => junkPayload,
  },
  'GET /v1/admin/crm/status': { path: fixed('/v1/admin/crm/status'), query: queryArb({}) },
  'GET /v1/policy': { path: fixed('/v1/policy'), query: queryArb({}) },
  'GET /v1/policy/acknowledgements': { path: fixed('/v1/policy/acknowledgements'), query: queryArb({}) },
  'POST /v1/policy/acknowledge': {
    path: fixed('/v1/policy/acknowledge'),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        jsonOrForm({ version: 1 }, { version: fc.oneof(junkString, fc.constantFrom(0, -1, 1.5, 1e9)) }),
      ),
  },
  'PUT /v1/policy': {
    path: fixed('/v1/policy'),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        jsonOrForm({ body: 'A policy' }, { body: fc.constantFrom('', 42, null, 'x'.repeat(20_001)) }),
      ),
  },
  'GET /v1/org/settings': { path: fixed('/v1/org/settings'), query: queryArb({}) },
  'PUT /v1/org/settings/:key': {
    path: () =>
      pathParam(fc.constantFrom('helpReply', 'doubleOptIn', 'auth.requireSecondFactor', 'nope')).map(
        (k) => `/v1/org/settings/${k}`,
      ),
    mutating: true,
    // Junk, or a value no setting takes (an object): refused either way.
    body: () =>
      fc.oneof(
        junkPayload,
        fc.object().map((value) => ({ contentType: 'application/json', raw: JSON.stringify({ value }) })),
      ),
  },
  'GET /v1/audit/verify': { path: fixed('/v1/audit/verify'), query: queryArb({}) },
  'GET /v1/numbers': { path: fixed('/v1/numbers'), query: queryArb({}) },
  'POST /v1/numbers': {
    path: fixed('/v1/numbers'),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        jsonOrForm(
          { number: '+13125550179' },
          {
            number: badPhone,
            type: junkString.filter((t) => !['long_code', 'toll_free', 'short_code'].includes(t)),
            label: fc.constantFrom('x'.repeat(101), 'front\ndesk', 'a\u0000b'),
            // Not a user of the org, or not an id at all.
            defaultAssigneeUserId: fc.oneof(junkString, fc.uuid()),
          },
        ),
      ),
  },
  'PATCH /v1/numbers/:id': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/numbers/${id}`),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        jsonOrForm(
          { label: null },
          {
            label: fc.constantFrom('x'.repeat(101), 'front\ndesk'),
            defaultAssigneeUserId: fc.oneof(junkString, fc.uuid()),
          },
        ),
      ),
  },
  'POST /v1/messages': {
    path: fixed('/v1/messages'),
    mutating: true,
    // Valid (UUID) or bad keys: the body below always carries a defect of its own.
    headers: badIdempotencyKey.map(
      (key): Record<string, string> => (key === undefined ? {} : { 'idempotency-key': key }),
    ),
    body: (ctx) =>
      fc.oneof(
        junkPayload,
        jsonOrForm(
          { from: ctx.owner.sender, to: CUSTOMER, body: 'Your appointment is tomorrow at 10.' },
          {
            from: fc.oneof(badPhone, fc.constant(FOREIGN_VALID_NUMBER)),
            to: fc.oneof(badPhone, fc.constant(FOREIGN_VALID_NUMBER)),
            body: fc.oneof(
              fc.constantFrom('', ' ', '\n\t ', '\u00a0'),
              fc.integer({ min: 1601, max: 4000 }).map((n) => 'x'.repeat(n)),
              fc.integer({ min: 738, max: 1600 }).map((n) => '😀'.repeat(n)),
            ),
            contact: fc.oneof(
              wrongType,
              fc.record({ crm: junkString, objectType: fc.constant('contact'), id: fc.constant('c-1001') }),
              fc.record({ crm: fc.constant('sandbox'), objectType: junkString, id: fc.constant('c-1001') }),
              fc.record({
                crm: fc.constant('sandbox'),
                objectType: fc.constant('contact'),
                id: fc.constantFrom('', 'has space', 'a'.repeat(65), 'é'),
              }),
              fc.constant({ crm: 'sandbox', objectType: 'contact', id: 'c-1001', extra: 1 }),
            ),
          },
        ),
      ),
  },
  'POST /v1/messages/preflight': {
    path: fixed('/v1/messages/preflight'),
    // Preflight stores nothing; a valid body is answered 200 with the decisions.
    body: (ctx) =>
      fc.oneof(
        junkPayload,
        jsonOrForm(
          { from: ctx.owner.sender, to: CUSTOMER, body: 'Your appointment is tomorrow at 10.' },
          {
            from: fc.oneof(badPhone, fc.constant(FOREIGN_VALID_NUMBER)),
            to: badPhone,
            body: fc.oneof(
              fc.constantFrom('', ' ', '\n\t '),
              fc.integer({ min: 1601, max: 4000 }).map((n) => 'x'.repeat(n)),
            ),
            sendAt: fc.oneof(
              junkString,
              fc.constantFrom('2026-13-45T99:99:99Z', 'tomorrow', '2099-01-01T10:00:00Z', '2026-11-22T10:00'),
            ),
          },
        ),
      ),
  },
  'POST /v1/payment-requests': {
    path: fixed('/v1/payment-requests'),
    mutating: true,
    headers: badIdempotencyKey.map(
      (key): Record<string, string> => (key === undefined ? {} : { 'idempotency-key': key }),
    ),
    body: (ctx) => fc.oneof(junkPayload, jsonOrForm(validPayment(ctx), paymentBreakers)),
  },
  'POST /v1/payment-requests/preview': {
    path: fixed('/v1/payment-requests/preview'),
    // The preview stores nothing; a valid body is answered 200 with the text and the decision.
    body: (ctx) => fc.oneof(junkPayload, jsonOrForm(validPayment(ctx), paymentBreakers)),
  },
  'GET /v1/reports/consent': {
    path: fixed('/v1/reports/consent'),
    query: queryArb({
      from: fc.oneof(junkString, fc.constant('2026-01-01T00:00:00Z')),
      to: fc.oneof(junkString, fc.constant('2025-01-01T00:00:00Z'), fc.constant('2028-01-01T00:00:00Z')),
      format: fc.oneof(junkString, fc.constantFrom('json', 'xml')),
      after: fc.oneof(junkString, fc.integer({ min: -5, max: 10 }).map(String)),
    }),
  },
  'GET /v1/reports/messages': {
    path: fixed('/v1/reports/messages'),
    query: queryArb({
      from: fc.oneof(junkString, fc.constant('2026-01-01T00:00:00Z')),
      to: fc.oneof(junkString, fc.constant('2026-02-01T00:00:00Z')),
      by: fc.oneof(junkString, fc.constantFrom('rep', 'number', 'team')),
    }),
  },
  'GET /v1/reports/daily': {
    path: fixed('/v1/reports/daily'),
    query: queryArb({
      from: fc.oneof(junkString, fc.constant('2026-01-01T00:00:00Z')),
      to: fc.oneof(junkString, fc.constant('2026-02-01T00:00:00Z')),
      format: fc.oneof(junkString, fc.constantFrom('json', 'csv')),
    }),
  },
  'GET /v1/reports/incidents': {
    path: fixed('/v1/reports/incidents'),
    query: queryArb({
      from: fc.oneof(junkString, fc.constant('2026-01-01T00:00:00Z')),
      to: fc.oneof(junkString, fc.constant('2026-02-01T00:00:00Z')),
    }),
  },
  'GET /v1/reports/payments': {
    path: fixed('/v1/reports/payments'),
    query: queryArb({
      from: fc.oneof(junkString, fc.constant('2026-01-01T00:00:00Z')),
      to: fc.oneof(junkString, fc.constant('2026-02-01T00:00:00Z')),
      format: fc.oneof(junkString, fc.constantFrom('json', 'csv')),
    }),
  },
  'GET /v1/inbox': {
    path: fixed('/v1/inbox'),
    query: queryArb({
      filter: fc.oneof(junkString, fc.constantFrom('mine', 'unassigned', 'all')),
      q: fc.oneof(junkString, fc.constantFrom('%', '_', '\\', '555', 'Ada')),
      limit: fc.oneof(junkString, fc.integer({ min: -5, max: 500 }).map(String)),
      cursor: fc.oneof(junkString, fc.constantFrom('mine.', 'unread.e30', 'all.WyJ4IiwieSJd')),
    }),
  },
  'POST /v1/conversations/:id/typing': {
    path: (ctx) =>
      pathParam(fc.oneof(fc.constant(ctx.conversationId), fc.uuid())).map(
        (id) => `/v1/conversations/${id}/typing`,
      ),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        jsonOrForm({ state: 'composing' }, { state: fc.oneof(junkString, fc.constant('shouting')) }),
      ),
  },
  'POST /v1/conversations/:id/read': {
    path: (ctx) =>
      pathParam(fc.oneof(fc.constant(ctx.conversationId), fc.uuid())).map(
        (id) => `/v1/conversations/${id}/read`,
      ),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/conversations/:id/unread': {
    path: (ctx) =>
      pathParam(fc.oneof(fc.constant(ctx.conversationId), fc.uuid())).map(
        (id) => `/v1/conversations/${id}/unread`,
      ),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/conversations/:id/assign': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/conversations/${id}/assign`),
    mutating: true,
    body: () =>
      fc.oneof(junkPayload, jsonOrForm({ userId: null }, { userId: fc.oneof(junkString, fc.uuid()) })),
  },
  'GET /v1/payment-requests/terms': { path: fixed('/v1/payment-requests/terms'), query: queryArb({}) },
  'GET /v1/payment-requests': {
    path: fixed('/v1/payment-requests'),
    query: queryArb({
      conversationId: fc.oneof(junkString, fc.uuid()),
      status: fc.oneof(junkString, fc.constantFrom('paid', 'sent')),
      rep: fc.oneof(junkString, fc.uuid()),
      cursor: junkString,
      limit: fc.oneof(junkString, fc.integer({ min: -5, max: 500 }).map(String)),
    }),
  },
  'POST /v1/payment-requests/:id/refund': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/payment-requests/${id}/refund`),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        jsonOrForm(
          { amountMinor: 100 },
          { amountMinor: fc.oneof(junkString, fc.integer()), reason: junkString },
        ),
      ),
  },
  'GET /v1/alerts': {
    path: fixed('/v1/alerts'),
    query: queryArb({ state: fc.oneof(junkString, fc.constantFrom('open', 'all')), cursor: junkString }),
  },
  'POST /v1/alerts/:id/resolve': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/alerts/${id}/resolve`),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        jsonOrForm({ note: 'checked' }, { note: junkString, resume: fc.oneof(junkString, fc.boolean()) }),
      ),
  },
  'GET /v1/payment-holds': {
    path: fixed('/v1/payment-holds'),
    query: queryArb({ state: fc.oneof(junkString, fc.constantFrom('open', 'all')), cursor: junkString }),
  },
  'POST /v1/payment-holds/:id/release': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/payment-holds/${id}/release`),
    mutating: true,
    body: () => fc.oneof(junkPayload, jsonOrForm({ note: 'checked' }, { note: junkString })),
  },
  'GET /v1/payment-requests/:id': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/payment-requests/${id}`),
    query: queryArb({}),
  },
  'POST /v1/payment-requests/:id/cancel': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/payment-requests/${id}/cancel`),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/payment-requests/:id/remind': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/payment-requests/${id}/remind`),
    mutating: true,
    body: () => junkPayload,
  },
  'GET /p/:token': {
    path: () => pathParam(linkToken).map((t) => `/p/${t}`),
    html: true,
    query: queryArb({}),
  },
  'POST /p/:token/opened': {
    path: () => pathParam(linkToken).map((t) => `/p/${t}/opened`),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /p/:token/pay': {
    path: () => pathParam(linkToken).map((t) => `/p/${t}/pay`),
    html: true,
    mutating: true,
    body: () => junkPayload,
  },
  'GET /p/:token/done': {
    path: () => pathParam(linkToken).map((t) => `/p/${t}/done`),
    html: true,
    query: queryArb({}),
  },
  'GET /assets/payment-page.js': { path: fixed('/assets/payment-page.js'), query: queryArb({}) },
  'GET /v1/messages/:id': {
    path: (ctx) =>
      pathParam(fc.oneof(fc.constant(ctx.messageId), fc.uuid())).map((id) => `/v1/messages/${id}`),
    query: queryArb({}),
  },
  'POST /v1/messages/:id/cancel': {
    // The seeded message is not scheduled (409) and other ids are unknown (404): nothing may change.
    path: (ctx) =>
      pathParam(fc.oneof(fc.constant(ctx.messageId), fc.uuid())).map((id) => `/v1/messages/${id}/cancel`),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/messages/:id/reschedule': {
    path: (ctx) =>
      pathParam(fc.oneof(fc.constant(ctx.messageId), fc.uuid())).map((id) => `/v1/messages/${id}/reschedule`),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        jsonOrForm(
          { sendAt: new Date(Date.now() + 3_600_000).toISOString() },
          { sendAt: fc.oneof(junkString, wrongType, fc.constantFrom('2026-13-40T25:61Z', 'tomorrow 9am')) },
        ),
      ),
  },
  'GET /v1/conversations': {
    path: fixed('/v1/conversations'),
    query: queryArb({
      limit: badLimit,
      phone: badPhone,
      crm: junkString,
      objectType: junkString,
      crmId: fc.constantFrom('', 'has space', 'a'.repeat(65)),
      mine: fc.oneof(junkString, fc.constantFrom('true', 'yes', '1', 'TRUE')),
      cursor: badCursor,
    }),
  },
  'GET /v1/conversations/:id/messages': {
    path: (ctx) =>
      pathParam(fc.oneof(fc.constant(ctx.conversationId), fc.constant(ctx.conversationId), fc.uuid())).map(
        (id) => `/v1/conversations/${id}/messages`,
      ),
    query: fc.oneof(
      queryArb({ limit: badLimit, cursor: badCursor }),
      badCursor.map((c) => formEncoded([['cursor', c]])),
    ),
  },
  'GET /v1/events': {
    path: fixed('/v1/events'),
    mustRefuseWithKey: true,
    queryRequired: true,
    // Every query carries one defect of its own, so an owner-key request can never open a stream.
    query: fc
      .tuple(
        fc.option(queryArb({ conversationId: junkString, lastEventId: badEventId }), { nil: undefined }),
        fc.oneof(
          junkString
            .filter((s) => !/^[0-9a-f-]{36}$/i.test(s))
            .map((id): [string, string] => ['conversationId', id]),
          badEventId.map((id): [string, string] => ['lastEventId', id]),
          fc.constant<[string, string]>(['unknownParameter', '1']),
        ),
      )
      .map(([q, defect]) => [q, formEncoded([defect])].filter((x) => x !== undefined).join('&')),
    headers: fc.option(
      badEventId.map((id) => ({ 'last-event-id': id.replace(/[^\t\x20-\x7e\x80-\xff]/g, '') || 'x' })),
      { nil: {} },
    ),
  },
  'GET /v1/review-items': {
    path: fixed('/v1/review-items'),
    query: queryArb({ status: junkString, kind: junkString, cursor: junkString, limit: badLimit }),
  },
  'POST /v1/review-items/:id/decide': {
    // No item exists in the fuzzed org, so every request must be refused (404 or 4xx).
    path: () => pathParam(fc.uuid()).map((id) => `/v1/review-items/${id}/decide`),
    mutating: true,
    body: () =>
      fc.oneof(junkPayload, jsonOrForm({ decision: 'ok' }, { decision: junkString, note: junkString })),
  },
  'GET /v1/reviews': {
    path: fixed('/v1/reviews'),
    query: queryArb({ status: junkString, limit: badLimit }),
  },
  'POST /v1/reviews/:id/decide': {
    // No review exists in the fuzzed org, so every request must be refused (404 or 4xx).
    path: () => pathParam(fc.uuid()).map((id) => `/v1/reviews/${id}/decide`),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        jsonOrForm(
          { decision: 'keep' },
          {
            decision: junkString.filter((s) => s !== 'keep' && s !== 'opt_out'),
            note: fc.integer({ min: 1001, max: 3000 }).map((n) => 'n'.repeat(n)),
          },
        ),
      ),
  },
  'POST /v1/contacts/escalate': {
    path: fixed('/v1/contacts/escalate'),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        jsonOrForm(
          { crm: 'sandbox', objectType: 'contact', id: 'c-1001', kind: 'call', note: 'Call her back' },
          {
            crm: junkString.filter((s) => !['sandbox', 'hubspot', 'salesforce'].includes(s)),
            objectType: junkString.filter((s) => s !== 'contact' && s !== 'lead'),
            id: fc.oneof(junkString, fc.constantFrom('c-9999', 'a'.repeat(65))),
            kind: junkString.filter((s) => s !== 'call' && s !== 'email'),
            note: fc.oneof(
              fc.constantFrom('', '   ', '\n\t'),
              fc.integer({ min: 2001, max: 5000 }).map((n) => 'n'.repeat(n)),
            ),
          },
        ),
      ),
  },
  'POST /v1/consent': {
    path: fixed('/v1/consent'),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        jsonOrForm(
          {
            phone: CUSTOMER,
            kind: 'opt_out',
            source: 'api',
            evidence: 'Customer asked by phone on 2026-11-02',
          },
          {
            phone: badPhone,
            kind: junkString.filter((s) => s !== 'opt_in' && s !== 'opt_out'),
            source: junkString.filter((s) => !['api', 'web_form', 'verbal', 'crm_import'].includes(s)),
            evidence: fc.oneof(
              fc.constantFrom('', 'ab', '   ', '  x  ', '\n\n\n\t'),
              fc.integer({ min: 2001, max: 5000 }).map((n) => 'e'.repeat(n)),
            ),
          },
        ),
      ),
  },
  'GET /v1/consent/:phone': {
    path: () => pathParam(badPhone.map(safeEncode)).map((p) => `/v1/consent/${p}`),
    query: queryArb({}),
  },
  'POST /v1/contacts/reveal': {
    path: fixed('/v1/contacts/reveal'),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        // No record has these ids, so nothing may be revealed (nor an auth event written).
        jsonOrForm(
          { crm: 'sandbox', objectType: 'contact', id: 'c-9999' },
          {
            crm: junkString.filter((s) => !['sandbox', 'hubspot', 'salesforce'].includes(s)),
            objectType: junkString.filter((s) => s !== 'contact' && s !== 'lead'),
            id: fc.oneof(junkString, fc.constantFrom('c-9999', 'a'.repeat(65))),
          },
        ),
      ),
  },
  'GET /v1/contacts/lookup': {
    path: fixed('/v1/contacts/lookup'),
    query: queryArb({
      crm: junkString,
      objectType: junkString,
      id: fc.oneof(junkString, fc.constantFrom('c-9999', 'a'.repeat(65))),
    }),
  },
  'POST /webhooks/plivo/inbound': {
    path: fixed('/webhooks/plivo/inbound'),
    query: queryArb({}),
    headers: fc.record(
      { 'x-plivo-signature-v3': headerValue, 'x-plivo-signature-v3-nonce': headerValue },
      { requiredKeys: [] },
    ),
    body: () =>
      fc.oneof(
        junkPayload,
        fc
          .record(
            {
              From: fc.oneof(fc.constant('12025550143'), badPhone),
              To: fc.oneof(fc.constant('12025550100'), badPhone),
              Text: fc.oneof(fc.constantFrom('STOP', 'START', 'HELP', 'hello'), junkString),
              MessageUUID: fc.oneof(fc.uuid(), junkString),
              Type: fc.constant('sms'),
            },
            { requiredKeys: [] },
          )
          .map((o) => ({
            contentType: 'application/x-www-form-urlencoded',
            raw: formEncoded(Object.entries(o)),
          })),
      ),
  },
  'POST /webhooks/plivo/status': {
    path: fixed('/webhooks/plivo/status'),
    query: queryArb({}),
    headers: fc.record(
      { 'x-plivo-signature-v3': headerValue, 'x-plivo-signature-v3-nonce': headerValue },
      { requiredKeys: [] },
    ),
    body: () =>
      fc.oneof(
        junkPayload,
        fc
          .record(
            {
              MessageUUID: fc.oneof(fc.uuid(), junkString),
              Status: fc.oneof(fc.constantFrom('delivered', 'failed', 'undelivered', 'sent'), junkString),
              ErrorCode: junkString,
              Sequence: fc.oneof(fc.integer().map(String), junkString),
            },
            { requiredKeys: [] },
          )
          .map((o) => ({
            contentType: 'application/x-www-form-urlencoded',
            raw: formEncoded(Object.entries(o)),
          })),
      ),
  },
  'POST /webhooks/hubspot': {
    path: fixed('/webhooks/hubspot'),
    query: queryArb({}),
    headers: fc.record(
      {
        'x-hubspot-signature-v3': headerValue,
        'x-hubspot-request-timestamp': fc.oneof(fc.constant(String(Date.now())), headerValue),
      },
      { requiredKeys: [] },
    ),
    body: () =>
      fc.oneof(
        junkPayload,
        fc
          .array(
            fc.record(
              {
                portalId: fc.oneof(fc.integer(), junkString),
                objectId: fc.oneof(fc.integer({ min: 1 }), junkString),
                subscriptionType: fc.constantFrom('contact.propertyChange', 'contact.creation'),
                propertyName: fc.constantFrom('sms_consent_status', 'phone'),
                propertyValue: fc.oneof(fc.constant('opted_out'), junkString),
              },
              { requiredKeys: [] },
            ),
            { maxLength: 3 },
          )
          .map((events) => ({ contentType: 'application/json', raw: JSON.stringify(events) })),
      ),
  },
  'GET /v1/admin/crm/:crm/oauth/start': {
    // No OAuth app is configured in the fuzzed relay, so even a good CRM name is refused.
    path: () =>
      pathParam(fc.constantFrom('hubspot', 'salesforce')).map((crm) => `/v1/admin/crm/${crm}/oauth/start`),
    query: queryArb({ crm: junkString }),
  },
  'GET /v1/crm/oauth/:crm/callback': {
    path: () =>
      pathParam(fc.constantFrom('hubspot', 'salesforce')).map((crm) => `/v1/crm/oauth/${crm}/callback`),
    html: true,
    query: queryArb({ code: junkString, state: junkString, error: junkString }),
  },
  'GET /v1/admin/crm/dead-letters': {
    path: fixed('/v1/admin/crm/dead-letters'),
    query: queryArb({ state: junkString, limit: badLimit }),
  },
  'POST /v1/admin/crm/dead-letters/:id/replay': {
    // No dead letter exists in the fuzzed org, so every request must be refused (404 or 4xx).
    path: () => pathParam(fc.uuid()).map((id) => `/v1/admin/crm/dead-letters/${id}/replay`),
    mutating: true,
    body: () => junkPayload,
  },
  'GET /setup': { path: fixed('/setup'), html: true, query: queryArb({ token: junkString }) },
  'POST /setup': {
    path: fixed('/setup'),
    mutating: true,
    html: true,
    body: () =>
      fc.oneof(
        junkPayload,
        // No setup token was ever issued, so no token can be right: every attempt must be refused.
        jsonOrForm(
          {
            token: 'not-a-token',
            orgName: 'Evil Corp',
            adminEmail: 'mallory@example.com',
            adminPassword: 'correct horse battery staple',
            adminPasswordConfirm: 'correct horse battery staple',
          },
          {
            token: junkString,
            orgName: junkString,
            adminEmail: junkString,
            adminPassword: junkString,
            adminPasswordConfirm: junkString,
          },
        ),
      ),
  },
  'GET /sandbox/phone': { path: fixed('/sandbox/phone'), html: true, query: queryArb({}) },
  'GET /sandbox/phone/app.js': { path: fixed('/sandbox/phone/app.js'), query: queryArb({}) },
  'GET /sandbox/phone/api/state': {
    path: fixed('/sandbox/phone/api/state'),
    query: queryArb({ handset: badPhone }),
  },
  'POST /sandbox/phone/api/send': {
    path: fixed('/sandbox/phone/api/send'),
    mutating: true,
    body: (ctx) =>
      fc.oneof(
        junkPayload,
        jsonOrForm(
          { handset: CUSTOMER, service: ctx.owner.sender, text: 'STOP' },
          {
            handset: badPhone,
            service: badPhone,
            text: fc.oneof(
              fc.constant(''),
              fc.integer({ min: 1601, max: 3000 }).map((n) => 't'.repeat(n)),
            ),
          },
        ),
      ),
  },
  'GET /sandbox/checkout/:id': {
    path: () => pathParam(sandboxCheckoutId).map((id) => `/sandbox/checkout/${id}`),
    html: true,
    query: queryArb({}),
  },
  'POST /sandbox/checkout/:id': {
    path: () => pathParam(sandboxCheckoutId).map((id) => `/sandbox/checkout/${id}`),
    mutating: true,
    body: () =>
      fc.oneof(junkPayload, jsonOrForm({ action: 'pay' }, { action: fc.oneof(junkString, wrongType) })),
  },
  'GET /sandbox/checkout/app.js': { path: fixed('/sandbox/checkout/app.js'), query: queryArb({}) },
  'POST /webhooks/payments': {
    path: fixed('/webhooks/payments'),
    query: queryArb({}),
    // Never correctly signed: every request is refused, whatever its body.
    mutating: true,
    headers: fc.record(
      { 'stripe-signature': fc.oneof(headerValue, fc.constant(`t=1,v1=${'0'.repeat(64)}`)) },
      { requiredKeys: [] },
    ),
    body: () => junkPayload,
  },
  'GET /sandbox/crm': { path: fixed('/sandbox/crm'), html: true, query: queryArb({}) },
  'GET /sandbox/mail': { path: fixed('/sandbox/mail'), html: true, query: queryArb({}) },
  'POST /v1/auth/login': { path: fixed('/v1/auth/login'), mutating: true, body: () => junkPayload },
  'POST /v1/auth/mfa': { path: fixed('/v1/auth/mfa'), mutating: true, body: () => junkPayload },
  'POST /v1/auth/refresh': { path: fixed('/v1/auth/refresh'), mutating: true, body: () => junkPayload },
  'POST /v1/auth/logout': { path: fixed('/v1/auth/logout'), mutating: true, body: () => junkPayload },
  'POST /v1/auth/password-reset': {
    path: fixed('/v1/auth/password-reset'),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/auth/password-reset/confirm': {
    path: fixed('/v1/auth/password-reset/confirm'),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/auth/verify-email': {
    path: fixed('/v1/auth/verify-email'),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/auth/totp/enrol': { path: fixed('/v1/auth/totp/enrol'), mutating: true, body: () => junkPayload },
  'POST /v1/auth/totp/confirm': {
    path: fixed('/v1/auth/totp/confirm'),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/auth/reauth': {
    path: fixed('/v1/auth/reauth'),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/auth/passkeys/options': {
    path: fixed('/v1/auth/passkeys/options'),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/auth/passkeys': { path: fixed('/v1/auth/passkeys'), mutating: true, body: () => junkPayload },
  'GET /v1/auth/passkeys': { path: fixed('/v1/auth/passkeys'), query: queryArb({}) },
  'DELETE /v1/auth/passkeys/:id': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/auth/passkeys/${id}`),
    mutating: true,
  },
  'POST /v1/auth/mfa/passkey/options': {
    path: fixed('/v1/auth/mfa/passkey/options'),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/auth/mfa/passkey': {
    path: fixed('/v1/auth/mfa/passkey'),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/auth/passkey/options': {
    path: fixed('/v1/auth/passkey/options'),
    mutating: true,
    // `{}` and `{ email }` are valid here (they hand out a challenge); everything else is refused.
    body: () =>
      junkPayload.filter((p) => {
        try {
          const value: unknown = p.contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')
            ? Object.fromEntries(new URLSearchParams(p.raw))
            : JSON.parse(p.raw);
          return !(
            typeof value === 'object' &&
            value !== null &&
            !Array.isArray(value) &&
            Object.keys(value).every((k) => k === 'email')
          );
        } catch {
          return true;
        }
      }),
  },
  'POST /v1/auth/passkey': { path: fixed('/v1/auth/passkey'), mutating: true, body: () => junkPayload },
  'GET /v1/sessions': { path: fixed('/v1/sessions'), query: queryArb({}) },
  'DELETE /v1/sessions/:id': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/sessions/${id}`),
    mutating: true,
  },
  'GET /v1/users': { path: fixed('/v1/users'), query: queryArb({}) },
  'POST /v1/users': { path: fixed('/v1/users'), mutating: true, body: () => junkPayload },
  'PUT /v1/users/:id/role': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/users/${id}/role`),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/users/:id/deactivate': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/users/${id}/deactivate`),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/users/:id/sso-link': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/users/${id}/sso-link`),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/reveal': {
    path: fixed('/v1/reveal'),
    mutating: true,
    body: () =>
      fc.oneof(
        junkPayload,
        // No conversation has this id, so nothing may be revealed (nor an auth event written).
        jsonOrForm(
          { conversationId: '00000000-0000-4000-8000-000000000000' },
          { conversationId: junkString },
        ),
      ),
  },
  'GET /v1/roles': { path: fixed('/v1/roles'), query: queryArb({}) },
  'GET /v1/audit': {
    path: fixed('/v1/audit'),
    query: queryArb({
      limit: badLimit,
      cursor: badCursor,
      from: junkString,
      to: junkString,
      actor: junkString,
      action: junkString,
    }),
  },
  // A valid export is recorded in the log (a write): every generated request carries a bad format or time.
  'GET /v1/audit/export': {
    path: fixed('/v1/audit/export'),
    mutating: true,
    queryRequired: true,
    query: fc.oneof(
      junkString
        .filter((f) => f !== '' && f !== 'csv' && f !== 'jsonl')
        .map((f) => formEncoded([['format', f]])),
      junkString.filter((t) => t.trim() !== '').map((t) => formEncoded([['from', t]])),
    ),
  },
  'POST /v1/roles': { path: fixed('/v1/roles'), mutating: true, body: () => junkPayload },
  'GET /v1/api-keys': { path: fixed('/v1/api-keys'), query: queryArb({}) },
  'POST /v1/api-keys': { path: fixed('/v1/api-keys'), mutating: true, body: () => junkPayload },
  // Every generated body misses a valid target or reason, so no hold is ever placed.
  'POST /v1/legal-holds': { path: fixed('/v1/legal-holds'), mutating: true, body: () => junkPayload },
  'GET /v1/legal-holds': { path: fixed('/v1/legal-holds'), query: queryArb({ active: junkString }) },
  'POST /v1/legal-holds/:id/release': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/legal-holds/${id}/release`),
    mutating: true,
  },
  'DELETE /v1/api-keys/:id': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/api-keys/${id}`),
    mutating: true,
  },
  'GET /v1/sso/saml': { path: fixed('/v1/sso/saml'), query: queryArb({}) },
  'PUT /v1/sso/saml': { path: fixed('/v1/sso/saml'), mutating: true, body: () => junkPayload },
  // No org in the fuzzed database has SAML configured, so no login starts and no assertion is consumed.
  'GET /v1/sso/saml/:orgId/login': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/sso/saml/${id}/login`),
    query: queryArb({}),
  },
  'POST /v1/sso/saml/:orgId/acs': {
    path: () => pathParam(fc.uuid()).map((id) => `/v1/sso/saml/${id}/acs`),
    mutating: true,
    body: () => junkPayload,
  },
  'GET /v1/sso/saml/done': { path: fixed('/v1/sso/saml/done'), html: true, query: queryArb({}) },
  'GET /auth/reset': { path: fixed('/auth/reset'), html: true, query: queryArb({ token: junkString }) },
  'POST /auth/reset': {
    path: fixed('/auth/reset'),
    html: true,
    mutating: true,
    body: () =>
      // No link was ever mailed, so no token can be right: every attempt must be refused.
      jsonOrForm(
        {
          token: 'A'.repeat(43),
          password: 'correct horse battery staple',
          confirm: 'correct horse battery staple',
        },
        { token: junkString, password: junkString, confirm: junkString },
      ),
  },
  'GET /auth/verify': { path: fixed('/auth/verify'), html: true, query: queryArb({ token: junkString }) },
  'POST /auth/verify': {
    path: fixed('/auth/verify'),
    html: true,
    mutating: true,
    body: () => jsonOrForm({ token: 'A'.repeat(43) }, { token: junkString }),
  },
  'POST /auth/enrol': {
    path: fixed('/auth/enrol'),
    html: true,
    mutating: true,
    body: () =>
      jsonOrForm({ token: 'A'.repeat(43), code: '123456' }, { token: junkString, code: junkString }),
  },
  'GET /auth/done': { path: fixed('/auth/done'), html: true, query: queryArb({ step: junkString }) },
  'GET /assets/pages.css': { path: fixed('/assets/pages.css'), query: queryArb({}) },
  'GET /admin': { path: fixed('/admin'), html: true, query: queryArb({}) },
  'GET /admin/': { path: fixed('/admin/'), html: true, query: queryArb({}) },
  'GET /admin/assets/:file': {
    path: () =>
      pathParam(fc.constantFrom('console-test.js', 'index.html', '..%2Findex.html', 'x.css')).map(
        (f) => `/admin/assets/${f}`,
      ),
    query: queryArb({}),
  },
  'GET /assets/copy-button.js': { path: fixed('/assets/copy-button.js'), query: queryArb({}) },
  'POST /v1/sso/saml/exchange': {
    path: fixed('/v1/sso/saml/exchange'),
    mutating: true,
    body: () => junkPayload,
  },
  'POST /v1/sso/saml/link': {
    path: fixed('/v1/sso/saml/link'),
    mutating: true,
    body: () => junkPayload,
  },
  'GET /sandbox/crm/contacts/:id': {
    path: () => pathParam(fc.constantFrom('c-1001', 'l-2001')).map((id) => `/sandbox/crm/contacts/${id}`),
    html: true,
    query: queryArb({}),
  },
};

function generated(route: RouteInfo, spec: RouteFuzz, ctx: Ctx): fc.Arbitrary<Generated> {
  const isGet = route.method === 'GET';
  return fc.record({
    method: isGet ? fc.constantFrom<HTTPMethods>('GET', 'GET', 'HEAD') : fc.constant(route.method),
    path: spec.path(ctx),
    query:
      spec.query === undefined
        ? fc.constant(undefined)
        : spec.queryRequired === true
          ? spec.query
          : fc.option(spec.query, { nil: undefined }),
    payload:
      spec.body !== undefined
        ? spec.body(ctx)
        : isGet
          ? fc.constant(undefined)
          : fc.option(junkPayload, { nil: undefined }),
    headers: fc
      .tuple(extraHeaders, spec.headers ?? fc.constant({}))
      .map(([extra, specific]) => ({ ...extra, ...specific })),
  });
}

// ---------------------------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------------------------

const PARSE_ERROR_CODES = new Set([
  'MALFORMED_JSON',
  'EMPTY_BODY',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'INVALID_CONTENT_LENGTH',
]);

function describeRequest(
  req: { method: string; url: string; headers: Record<string, string> },
  payload?: Payload,
) {
  const body =
    payload === undefined
      ? ''
      : ` [${payload.contentType ?? 'no content-type'}] ${payload.raw.slice(0, 200)}`;
  return `${req.method} ${req.url.slice(0, 300)} ${JSON.stringify(req.headers).slice(0, 300)}${body}`;
}

/** Fastify's own body for refusals it makes before routing (FST_ERR_BAD_URL, FST_ERR_MAX_PARAM_LENGTH). */
function fastifyDefaultBody(response: LightMyRequestResponse): boolean {
  try {
    const body = JSON.parse(response.body) as { code?: unknown; statusCode?: unknown };
    return (
      typeof body.code === 'string' && body.code.startsWith('FST_ERR_') && typeof body.statusCode === 'number'
    );
  } catch {
    return false;
  }
}

function codeOf(response: LightMyRequestResponse): string | null {
  try {
    const code = (JSON.parse(response.body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : null;
  } catch {
    return null;
  }
}

/** 4xx answers carry {"error":{"code","message","details"?}}; returns the code. */
function expectEnvelope(response: LightMyRequestResponse, what: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    throw new Error(`${what}: ${response.statusCode} body is not JSON: ${response.body.slice(0, 300)}`);
  }
  const ok =
    typeof parsed === 'object' &&
    parsed !== null &&
    Object.keys(parsed).join() === 'error' &&
    typeof (parsed as { error: unknown }).error === 'object';
  if (!ok)
    throw new Error(
      `${what}: ${response.statusCode} body is not the error envelope: ${response.body.slice(0, 300)}`,
    );
  const error = (parsed as { error: Record<string, unknown> }).error;
  const extra = Object.keys(error).filter((k) => !['code', 'message', 'details'].includes(k));
  if (
    typeof error.code !== 'string' ||
    !/^[A-Z][A-Z0-9_]*$/.test(error.code) ||
    typeof error.message !== 'string'
  ) {
    throw new Error(`${what}: envelope has no SNAKE_CASE code or no message: ${response.body.slice(0, 300)}`);
  }
  if (error.message === '' || extra.length > 0) {
    throw new Error(
      `${what}: envelope has an empty message or unknown keys ${extra.join()}: ${response.body.slice(0, 300)}`,
    );
  }
  return error.code;
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

const db = await freshPglite();
const relay: TestRelay = await testRelay(db);
const routes = await collectRoutes({
  config: relay.config,
  db,
  sms: relay.sandbox,
  sandbox: relay.sandbox,
  notifier: new Notifier(db),
  sends: new SendBatcher(db),
  hub: new EventHub(db),
  crm: staticCrms(createCrmRegistry(['sandbox'])),
  clock: () => new Date(),
  mail: new SandboxMailTransport(db),
  outgoingMail: new OutgoingMail(new SandboxMailTransport(db)),
  payments: relay.payments,
});

describe('bad input fuzzing (fast-check) against every route', () => {
  let ctx: Ctx;
  let before: Record<string, number>;
  let requests = 0;
  const routerLevelViolations: string[] = [];

  beforeAll(async () => {
    const owner = await seedOrg(db, { role: 'owner', name: 'Fuzz Dental' });
    await optIn(relay.app, owner, CUSTOMER);
    const sent = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...owner.auth, 'idempotency-key': idemKey() },
      payload: { from: owner.sender, to: CUSTOMER, body: 'Seed message' },
    });
    if (sent.statusCode !== 202) throw new Error(`seed send failed: ${sent.body}`);
    const message = (sent.json() as { message: { id: string; conversationId: string } }).message;
    ctx = { owner, conversationId: message.conversationId, messageId: message.id };
    before = await rowCounts(db);
  });

  afterAll(async () => {
    console.info(`[fuzz] sent ${requests} generated requests across ${routes.length} routes`);
    await relay.close();
    await db.close();
  });

  async function send(req: {
    method: HTTPMethods;
    url: string;
    headers: Record<string, string>;
    payload?: string;
  }) {
    requests += 1;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)),
        REQUEST_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([relay.app.inject(req), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('knows a fuzz specification for every route the app serves (and the route table matches the app)', () => {
    const keys = routes.map((r) => `${r.method} ${r.url}`);
    const missing = keys.filter((k) => !(k in FUZZ));
    expect(missing, `routes without a fuzz specification in FUZZ: ${missing.join(', ')}`).toEqual([]);
    const stale = Object.keys(FUZZ).filter((k) => !keys.includes(k));
    expect(stale, 'FUZZ entries for routes that no longer exist').toEqual([]);
    for (const r of routes)
      expect(relay.app.hasRoute({ method: r.method, url: r.url }), `${r.method} ${r.url}`).toBe(true);
    expect(methodsInPrintout(relay.app.printRoutes({ commonPrefix: false }))).toBe(routes.length);
  });

  for (const route of routes) {
    const key = `${route.method} ${route.url}`;
    const spec = FUZZ[key];
    const guarded = route.access?.kind === 'permission';
    const webhook = route.access?.kind === 'webhook';

    it(`${key} answers generated bad input below 500, in the error envelope, and writes nothing`, async () => {
      if (spec === undefined) throw new Error(`no fuzz specification for ${key}`);
      const start = await rowCounts(db);
      const ownerKey = ctx.owner.key;
      const arb = fc.tuple(generated(route, spec, ctx), junkAuth(ownerKey));
      await fc.assert(
        fc.asyncProperty(arb, async ([g, badAuth]) => {
          const url = g.query === undefined ? g.path : `${g.path}?${g.query}`;
          const base: Record<string, string> = { ...g.headers };
          if (g.payload?.contentType !== undefined) base['content-type'] = g.payload.contentType;
          const variants: { auth: 'owner' | 'junk'; headers: Record<string, string> }[] = [
            { auth: 'owner', headers: { ...base, authorization: `Bearer ${ownerKey}` } },
            { auth: 'junk', headers: badAuth === undefined ? base : { ...base, authorization: badAuth } },
          ];
          for (const variant of variants) {
            const req = { method: g.method, url, headers: variant.headers, payload: g.payload?.raw };
            const what = describeRequest(req, g.payload);
            const response = await send(req);
            const status = response.statusCode;
            expect(status, `${what} → ${response.body.slice(0, 300)}`).toBeLessThan(500);
            if (fastifyDefaultBody(response)) {
              // Known bug, reported once by its own test below so it does not hide others here.
              routerLevelViolations.push(`${what} → ${status} ${response.body.slice(0, 200)}`);
              continue;
            }
            const isHtml = String(response.headers['content-type'] ?? '').startsWith('text/html');
            let code: string | null = null;
            if (status >= 400 && g.method !== 'HEAD' && !(spec.html === true && isHtml)) {
              code = expectEnvelope(response, what);
            }
            if (
              (spec.mutating === true || (spec.mustRefuseWithKey === true && variant.auth === 'owner')) &&
              status < 400
            ) {
              throw new Error(
                `${what}: bad input was accepted with ${status}: ${response.body.slice(0, 300)}`,
              );
            }
            if (guarded && variant.auth === 'junk') {
              // Auth runs before anything reads the request; only a URL the router refuses or cannot
              // match (before any route runs) may answer otherwise.
              let routerCode = code;
              if (g.method === 'HEAD' && status !== 401) {
                // A HEAD answer has no body: ask the GET twin what the refusal was.
                const twin = await send({ ...req, method: 'GET' });
                if (twin.statusCode === status)
                  routerCode = fastifyDefaultBody(twin) ? 'FASTIFY_URL' : codeOf(twin);
              }
              const beforeRouting =
                (status === 404 && routerCode === 'NOT_FOUND') ||
                ([400, 414].includes(status) && /URL|PATH|PARAM/.test(routerCode ?? ''));
              if (!beforeRouting) {
                expect(
                  status,
                  `${what}: junk credentials must be refused → ${response.body.slice(0, 200)}`,
                ).toBe(401);
                if (g.method !== 'HEAD') expect(code).toBe('UNAUTHENTICATED');
              }
            }
            if (webhook && g.method !== 'HEAD') {
              const parseError = code !== null && PARSE_ERROR_CODES.has(code);
              if (!parseError) {
                expect(status, `${what}: unsigned webhook must be refused`).toBe(403);
                expect(code).toBe('INVALID_SIGNATURE');
              }
            }
          }
        }),
        { seed: SEED, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );
      expect(await rowCounts(db), `${key} changed the database`).toEqual(start);
    });
  }

  it('answers URLs the router refuses (bad percent-escapes, over-long parameters) in the error envelope', () => {
    expect(
      routerLevelViolations.slice(0, 5),
      `${routerLevelViolations.length} generated requests got Fastify's default error body instead of the envelope`,
    ).toEqual([]);
  });

  it('leaves every table with the row counts it had before the fuzzing', async () => {
    expect(requests).toBeGreaterThan(0);
    expect(await rowCounts(db)).toEqual(before);
  });

  describe('regressions found by the fuzzer', () => {
    const cursorFor = (value: unknown) => base64urlJson(value);

    it.each([
      ['a year-less timestamp JavaScript accepts', ['1', '00000000-0000-0000-0000-000000000000']],
      ['an id of 36 dashes', ['2026-01-01T00:00:00Z', '------------------------------------']],
      [
        'a timestamp out of PostgreSQL range',
        ['+275760-09-13T00:00:00.000Z', '00000000-0000-0000-0000-000000000000'],
      ],
      ['an id of 36 hex digits without dashes', ['2026-01-01T00:00:00Z', 'f'.repeat(36)]],
    ])('refuses a forged cursor with %s as 400 INVALID_CURSOR, not 500', async (_name, value) => {
      const response = await relay.app.inject({
        method: 'GET',
        url: `/v1/conversations/${ctx.conversationId}/messages?cursor=${cursorFor(value)}`,
        headers: ctx.owner.auth,
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'INVALID_CURSOR' } });
    });

    it.each([
      ['a never-active position with an id of 36 dashes', [null, '------------------------------------']],
      [
        'a timestamp out of PostgreSQL range',
        ['294277-01-01 00:00:00+00', '00000000-0000-0000-0000-000000000000'],
      ],
      [
        'an ISO timestamp PostgreSQL never prints',
        ['2026-01-01T00:00:00Z', '00000000-0000-0000-0000-000000000000'],
      ],
      ['no id at all', ['2026-01-01 00:00:00+00']],
    ])(
      'refuses a forged conversation-list cursor with %s as 400 INVALID_CURSOR, not 500',
      async (_name, value) => {
        const response = await relay.app.inject({
          method: 'GET',
          url: `/v1/conversations?cursor=${cursorFor(value)}`,
          headers: ctx.owner.auth,
        });
        expect(response.statusCode, response.body).toBe(400);
        expect(response.json()).toMatchObject({ error: { code: 'INVALID_CURSOR' } });
      },
    );

    it('answers a path with a malformed percent-escape in the error envelope', async () => {
      const response = await relay.app.inject({
        method: 'GET',
        url: '/v1/messages/%E0%A4%A',
        headers: ctx.owner.auth,
      });
      expect(response.statusCode).toBe(400);
      expectEnvelope(response, 'GET /v1/messages/%E0%A4%A');
    });

    it('answers a path parameter longer than the router limit in the error envelope', async () => {
      const url = `/v1/consent/${'1'.repeat(101)}`;
      const response = await relay.app.inject({ method: 'GET', url, headers: ctx.owner.auth });
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
      expect(response.statusCode).toBeLessThan(500);
      expectEnvelope(response, `GET ${url}`);
    });
  });
});
