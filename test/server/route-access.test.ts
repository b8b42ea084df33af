import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type HTTPMethods } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrmRegistry } from '../../crm-plugins/registry.ts';
import {
  PERMISSIONS,
  type Permission,
  permissionsOf,
  ROLE_NAMES,
  type Role,
} from '../../server/auth/permissions.ts';
import { normalizeCertificate, saveSamlSettings } from '../../server/auth/saml-settings.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { staticCrms } from '../../server/crm-sync/org-crms.ts';
import { ApiError, envelope } from '../../server/errors.ts';
import { type Access, accessHook } from '../../server/http/access.ts';
import type { Deps } from '../../server/http/services.ts';
import { validatorCompiler } from '../../server/http/validation.ts';
import { EventHub } from '../../server/live/events.ts';
import { Notifier } from '../../server/live/notifier.ts';
import { OutgoingMail } from '../../server/mail/outgoing.ts';
import { SandboxMailTransport } from '../../server/mail/transport.ts';
import { createKeyForOrg } from '../../server/organisations/org-admin.ts';
import { signPlivoV3 } from '../../server/providers/plivo-signature.ts';
import { ROUTE_MODULES } from '../../server/routes/registry.ts';
import { SendBatcher } from '../../server/workers/send-batcher.ts';
import { freshPglite } from '../helpers/db.ts';
import { MANY_LINKS, setPaymentGuards } from '../helpers/payments.ts';
import {
  CUSTOMER,
  daytimeClock,
  idemKey,
  optIn,
  SENDER,
  seedOrg,
  TEST_TOKEN,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';
import { openTextStream, readTextResponse } from '../helpers/sse-text.ts';

/**
 * The authorization matrix, generated from the route table: every route declares who may call
 * it, every permission-guarded route is tried without a key, with each built-in role and with a
 * key of another organisation.
 */

const ORG_B_SENDER = '+12025550101';

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

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

interface Call {
  method: HTTPMethods;
  url: string;
  headers?: Record<string, string>;
  payload?: Record<string, unknown> | string;
  /** Server-sent events: opened over a real socket and closed once the status is known. */
  stream?: boolean;
}

interface Answer {
  status: number;
  body: string;
  json(): unknown;
}

interface Ctx {
  a: TestOrg;
  keysA: Record<Role, string>;
  keyIdsA: string[];
  b: TestOrg;
  conversationA: string;
  messageA: string;
  /** An open review in org A (an unclear reply from another phone). */
  reviewA: string;
  /** A CRM dead letter in org A. */
  deadLetterA: string;
  /** A user of org A (a rep) whom owners and admins may change and deactivate. */
  userA: string;
  /** A session of another user of org A. */
  sessionA: string;
  /** Org A's sender number (its id). */
  numberA: string;
  /** A user of org A for each built-in role, to sign in as (the rep has sent in conversationA). */
  usersA: Record<Role, string>;
  baseUrl: string;
}

interface GuardedCase {
  /** A minimal valid request; any role holding the permission gets `ok`. */
  valid: (ctx: Ctx) => Call;
  ok: number;
  /** What a signed-in session gets for the valid request, when it differs from an API key. */
  okSession?: number | readonly number[];
  /**
   * The 403 code every API key gets even when its role holds the permission: the change needs a
   * signed-in person who just proved a credential (requireRecentAuth).
   */
  keyRefused?: string;
  /** The same kind of request made with org B's owner key against org A's data. */
  foreign: (ctx: Ctx) => Call;
  expectForeign: (answer: Answer, ctx: Ctx) => void | Promise<void>;
}

/** A report period around today, whatever the date the suite runs on. */
const REPORT_PERIOD = `from=${new Date(Date.now() - 30 * 86_400_000).toISOString()}&to=${new Date(Date.now() + 86_400_000).toISOString()}`;

const errorCode = (answer: Answer) => (answer.json() as { error?: { code?: string } }).error?.code;

/** SAML settings with a throwaway self-signed certificate (EC P-256, public part only). */
const SAML_SETTINGS = {
  idpEntityId: 'https://idp.example.test/metadata',
  ssoUrl: 'https://idp.example.test/sso',
  idpCertificate:
    'MIIBcTCCARegAwIBAgIUZkLbzdM1+qhfiv8ma/yVr0vBCIIwCgYIKoZIzj0EAwIwDjEMMAoGA1UEAwwD' +
    'aWRwMB4XDTI2MTEyMjAzMjEyN1oXDTM2MTExOTAzMjEyN1owDjEMMAoGA1UEAwwDaWRwMFkwEwYHKoZI' +
    'zj0CAQYIKoZIzj0DAQcDQgAE5X55OUT/wYya1QGgTal04VHKtH+wiC6FBM74bN0v7VgPvVPrRAGVWhVO' +
    'Mv77OXAvpgE59DhXMkrka6lsdVT9v6NTMFEwHQYDVR0OBBYEFI/UGZQ9LTlJb1lFyupgWUglaGAXMB8G' +
    'A1UdIwQYMBaAFI/UGZQ9LTlJb1lFyupgWUglaGAXMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID' +
    'SAAwRQIhAJ18Y1YLll/+3YG4IBSzNWV6MhYSTRM8kLugybTRbzSwAiB1XbDkZ1kqX4awgQuvfYwIvp6a' +
    'XopZYyOqNVgo0etUQw==',
  defaultRole: 'rep',
};

let senderNumbers = 0;
/** A sender number no organisation has registered yet (+1 415 555 0120, 0121, …). */
const nextSenderNumber = () => `+1415555${String(120 + senderNumbers++).padStart(4, '0')}`;

/** Minimal valid requests for every permission-guarded route. A new route must be added here. */
const GUARDED: Record<string, GuardedCase> = {
  'GET /v1/me': {
    valid: () => ({ method: 'GET', url: '/v1/me' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/me' }),
    expectForeign: (answer, ctx) => {
      expect(answer.status).toBe(200);
      expect(answer.json()).toMatchObject({ orgId: ctx.b.orgId, role: 'owner' });
    },
  },
  'GET /v1/numbers': {
    valid: () => ({ method: 'GET', url: '/v1/numbers' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/numbers' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      const numbers = (answer.json() as { numbers: { e164: string }[] }).numbers.map((n) => n.e164);
      expect(numbers).toEqual([ORG_B_SENDER]);
    },
  },
  // Numbers change only by a signed-in person (every key is refused); each add is a number of its own.
  // This relay hosts two organisations and org A has no Powerpack: the operator assigns numbers.
  'POST /v1/numbers': {
    valid: () => ({ method: 'POST', url: '/v1/numbers', payload: { number: nextSenderNumber() } }),
    ok: 409,
    keyRefused: 'SESSION_REQUIRED',
    foreign: (ctx) => ({ method: 'POST', url: '/v1/numbers', payload: { number: ctx.a.sender } }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('SESSION_REQUIRED'),
  },
  'PATCH /v1/numbers/:id': {
    valid: (ctx) => ({
      method: 'PATCH',
      url: `/v1/numbers/${ctx.numberA}`,
      payload: { label: 'Front desk' },
    }),
    ok: 200,
    keyRefused: 'SESSION_REQUIRED',
    foreign: (ctx) => ({
      method: 'PATCH',
      url: `/v1/numbers/${ctx.numberA}`,
      payload: { label: 'Org B was here' },
    }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('SESSION_REQUIRED'),
  },
  'POST /v1/messages': {
    valid: (ctx) => ({
      method: 'POST',
      url: '/v1/messages',
      headers: { 'idempotency-key': idemKey() },
      payload: { from: ctx.a.sender, to: CUSTOMER, body: 'Your appointment is confirmed.' },
    }),
    ok: 202,
    foreign: (ctx) => ({
      method: 'POST',
      url: '/v1/messages',
      headers: { 'idempotency-key': idemKey() },
      payload: { from: ctx.a.sender, to: CUSTOMER, body: 'Sent from a stolen number' },
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(422);
      expect(errorCode(answer)).toBe('UNKNOWN_SENDER_NUMBER');
    },
  },
  'POST /v1/messages/preflight': {
    valid: (ctx) => ({
      method: 'POST',
      url: '/v1/messages/preflight',
      payload: { from: ctx.a.sender, to: CUSTOMER, body: 'Your appointment is confirmed.' },
    }),
    ok: 200,
    foreign: (ctx) => ({
      method: 'POST',
      url: '/v1/messages/preflight',
      payload: { from: ctx.a.sender, to: CUSTOMER, body: 'Probing a stolen number' },
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(422);
      expect(errorCode(answer)).toBe('UNKNOWN_SENDER_NUMBER');
    },
  },
  'POST /v1/payment-requests': {
    valid: (ctx) => ({
      method: 'POST',
      url: '/v1/payment-requests',
      headers: { 'idempotency-key': idemKey() },
      payload: { from: ctx.a.sender, to: CUSTOMER, amountMinor: 2500, description: 'Deposit' },
    }),
    ok: 201,
    foreign: (ctx) => ({
      method: 'POST',
      url: '/v1/payment-requests',
      headers: { 'idempotency-key': idemKey() },
      payload: { from: ctx.a.sender, to: CUSTOMER, amountMinor: 2500, description: 'From a stolen number' },
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(422);
      expect(errorCode(answer)).toBe('UNKNOWN_SENDER_NUMBER');
    },
  },
  'POST /v1/payment-requests/preview': {
    valid: (ctx) => ({
      method: 'POST',
      url: '/v1/payment-requests/preview',
      payload: { from: ctx.a.sender, to: CUSTOMER, amountMinor: 2500, description: 'Deposit' },
    }),
    ok: 200,
    foreign: (ctx) => ({
      method: 'POST',
      url: '/v1/payment-requests/preview',
      payload: {
        from: ctx.a.sender,
        to: CUSTOMER,
        amountMinor: 2500,
        description: 'Probing a stolen number',
      },
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(422);
      expect(errorCode(answer)).toBe('UNKNOWN_SENDER_NUMBER');
    },
  },
  'GET /v1/payment-requests/terms': {
    valid: () => ({ method: 'GET', url: '/v1/payment-requests/terms' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/payment-requests/terms' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect(answer.json()).toMatchObject({ businessName: 'Org B Plumbing' });
    },
  },
  'GET /v1/payment-requests': {
    valid: (ctx) => ({ method: 'GET', url: `/v1/payment-requests?conversationId=${ctx.conversationA}` }),
    ok: 200,
    foreign: (ctx) => ({ method: 'GET', url: `/v1/payment-requests?conversationId=${ctx.conversationA}` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('CONVERSATION_NOT_FOUND');
    },
  },
  // No request has these ids: refused as not found after authorization (the flows are tested in
  // test/payments/payment-requests.test.ts, another org's request included).
  'GET /v1/payment-requests/:id': {
    valid: () => ({ method: 'GET', url: `/v1/payment-requests/${randomUUID()}` }),
    ok: 404,
    foreign: () => ({ method: 'GET', url: `/v1/payment-requests/${randomUUID()}` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('PAYMENT_NOT_FOUND');
    },
  },
  'POST /v1/payment-requests/:id/cancel': {
    valid: () => ({ method: 'POST', url: `/v1/payment-requests/${randomUUID()}/cancel` }),
    ok: 404,
    foreign: () => ({ method: 'POST', url: `/v1/payment-requests/${randomUUID()}/cancel` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('PAYMENT_NOT_FOUND');
    },
  },
  'POST /v1/payment-requests/:id/remind': {
    valid: () => ({ method: 'POST', url: `/v1/payment-requests/${randomUUID()}/remind` }),
    ok: 404,
    foreign: () => ({ method: 'POST', url: `/v1/payment-requests/${randomUUID()}/remind` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('PAYMENT_NOT_FOUND');
    },
  },
  'POST /v1/payment-requests/:id/refund': {
    valid: () => ({
      method: 'POST',
      url: `/v1/payment-requests/${randomUUID()}/refund`,
      headers: { 'idempotency-key': `refund-${randomUUID()}` },
      payload: {},
    }),
    ok: 404,
    foreign: () => ({
      method: 'POST',
      url: `/v1/payment-requests/${randomUUID()}/refund`,
      headers: { 'idempotency-key': `refund-${randomUUID()}` },
      payload: {},
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('PAYMENT_NOT_FOUND');
    },
  },
  // Another org's holds are never listed nor found (the flows: test/payments/payment-guards.test.ts).
  'GET /v1/payment-holds': {
    valid: () => ({ method: 'GET', url: '/v1/payment-holds?state=all' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/payment-holds?state=all' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ holds: [], nextCursor: null });
    },
  },
  'POST /v1/payment-holds/:id/release': {
    valid: () => ({ method: 'POST', url: `/v1/payment-holds/${randomUUID()}/release`, payload: {} }),
    ok: 404,
    foreign: () => ({ method: 'POST', url: `/v1/payment-holds/${randomUUID()}/release`, payload: {} }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('HOLD_NOT_FOUND');
    },
  },
  // Another org's alerts are never listed nor found (the flows: test/server/anomaly-alerts.test.ts).
  'GET /v1/alerts': {
    valid: () => ({ method: 'GET', url: '/v1/alerts?state=all' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/alerts?state=all' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ alerts: [], nextCursor: null });
    },
  },
  'POST /v1/alerts/:id/resolve': {
    valid: () => ({ method: 'POST', url: `/v1/alerts/${randomUUID()}/resolve`, payload: {} }),
    ok: 404,
    foreign: () => ({ method: 'POST', url: `/v1/alerts/${randomUUID()}/resolve`, payload: {} }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('ALERT_NOT_FOUND');
    },
  },
  // Another org's review items are never listed nor found (the flows: test/server/review-queue.test.ts).
  'GET /v1/review-items': {
    valid: () => ({ method: 'GET', url: '/v1/review-items?status=all&kind=sample' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/review-items?status=all&kind=sample' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ items: [], nextCursor: null });
    },
  },
  'POST /v1/review-items/:id/decide': {
    valid: () => ({
      method: 'POST',
      url: `/v1/review-items/${randomUUID()}/decide`,
      payload: { decision: 'ok' },
    }),
    ok: 404,
    foreign: () => ({
      method: 'POST',
      url: `/v1/review-items/${randomUUID()}/decide`,
      payload: { decision: 'ok' },
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('REVIEW_ITEM_NOT_FOUND');
    },
  },
  'GET /v1/reviews': {
    valid: () => ({ method: 'GET', url: '/v1/reviews?status=all' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/reviews?status=all' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ reviews: [] });
    },
  },
  'POST /v1/reviews/:id/decide': {
    // Deciding "keep" again answers like the first time, so every role may repeat it.
    valid: (ctx) => ({
      method: 'POST',
      url: `/v1/reviews/${ctx.reviewA}/decide`,
      payload: { decision: 'keep' },
    }),
    ok: 200,
    foreign: (ctx) => ({
      method: 'POST',
      url: `/v1/reviews/${ctx.reviewA}/decide`,
      payload: { decision: 'opt_out' },
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('REVIEW_NOT_FOUND');
    },
  },
  'GET /v1/messages/:id': {
    valid: (ctx) => ({ method: 'GET', url: `/v1/messages/${ctx.messageA}` }),
    ok: 200,
    foreign: (ctx) => ({ method: 'GET', url: `/v1/messages/${ctx.messageA}` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('MESSAGE_NOT_FOUND');
    },
  },
  'POST /v1/messages/:id/cancel': {
    // No message has this id: refused as not found after authorization (cancelling is tested in
    // test/server/scheduled-changes.test.ts).
    valid: () => ({ method: 'POST', url: `/v1/messages/${randomUUID()}/cancel` }),
    ok: 404,
    foreign: (ctx) => ({ method: 'POST', url: `/v1/messages/${ctx.messageA}/cancel` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('MESSAGE_NOT_FOUND');
    },
  },
  'POST /v1/messages/:id/reschedule': {
    valid: () => ({
      method: 'POST',
      url: `/v1/messages/${randomUUID()}/reschedule`,
      payload: { sendAt: new Date(Date.now() + 3_600_000).toISOString() },
    }),
    ok: 404,
    foreign: (ctx) => ({
      method: 'POST',
      url: `/v1/messages/${ctx.messageA}/reschedule`,
      payload: { sendAt: new Date(Date.now() + 3_600_000).toISOString() },
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('MESSAGE_NOT_FOUND');
    },
  },
  'GET /v1/conversations': {
    // Without a phone filter: that filter needs pii.view as well (test/server/pii-masking.test.ts).
    valid: () => ({ method: 'GET', url: '/v1/conversations?limit=5' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: `/v1/conversations?phone=${encodeURIComponent(CUSTOMER)}` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ conversations: [], nextCursor: null });
    },
  },
  'GET /v1/conversations/:id/messages': {
    valid: (ctx) => ({ method: 'GET', url: `/v1/conversations/${ctx.conversationA}/messages?limit=5` }),
    ok: 200,
    foreign: (ctx) => ({ method: 'GET', url: `/v1/conversations/${ctx.conversationA}/messages?limit=5` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('CONVERSATION_NOT_FOUND');
    },
  },
  // Reports read the caller's own org only: org B's key gets org B's (empty) figures.
  'GET /v1/reports/consent': {
    valid: () => ({ method: 'GET', url: `/v1/reports/consent?${REPORT_PERIOD}` }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: `/v1/reports/consent?${REPORT_PERIOD}` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      // At most org B's own opt-out (recorded by the POST /v1/consent case), never org A's opt-in.
      const rows = (answer.json() as { rows: { evidence: string }[] }).rows;
      expect(rows.filter((r) => r.evidence !== 'Opt-out recorded by another org')).toEqual([]);
    },
  },
  'GET /v1/reports/messages': {
    valid: () => ({ method: 'GET', url: `/v1/reports/messages?${REPORT_PERIOD}` }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: `/v1/reports/messages?${REPORT_PERIOD}&by=number` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      const keys = (answer.json() as { rows: { key: string }[] }).rows.map((r) => r.key);
      expect(keys).not.toContain(SENDER);
    },
  },
  // Org A's texts and consent changes never count in org B's days.
  'GET /v1/reports/daily': {
    valid: () => ({ method: 'GET', url: `/v1/reports/daily?${REPORT_PERIOD}` }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: `/v1/reports/daily?${REPORT_PERIOD}` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      const days = (answer.json() as { days: { outbound: number; inbound: number; optIns: number }[] }).days;
      expect(days.every((d) => d.outbound === 0 && d.inbound === 0 && d.optIns === 0)).toBe(true);
    },
  },
  'GET /v1/reports/incidents': {
    valid: () => ({ method: 'GET', url: `/v1/reports/incidents?${REPORT_PERIOD}` }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: `/v1/reports/incidents?${REPORT_PERIOD}` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
    },
  },
  // Org A's requests (every role asks one customer for a payment here) never show in org B's report.
  'GET /v1/reports/payments': {
    valid: () => ({ method: 'GET', url: `/v1/reports/payments?${REPORT_PERIOD}` }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: `/v1/reports/payments?${REPORT_PERIOD}` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ rows: [] });
    },
  },
  // "mine" and read state belong to a person: an API key is told so; every signed-in role gets it.
  'GET /v1/inbox': {
    valid: () => ({ method: 'GET', url: '/v1/inbox?limit=5' }),
    ok: 400,
    okSession: 200,
    foreign: () => ({ method: 'GET', url: '/v1/inbox?filter=all' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect((answer.json() as { rows: unknown[] }).rows).toEqual([]);
    },
  },
  'POST /v1/conversations/:id/read': {
    valid: (ctx) => ({ method: 'POST', url: `/v1/conversations/${ctx.conversationA}/read` }),
    ok: 400,
    okSession: 200,
    foreign: (ctx) => ({ method: 'POST', url: `/v1/conversations/${ctx.conversationA}/read` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('CONVERSATION_NOT_FOUND');
    },
  },
  'POST /v1/conversations/:id/typing': {
    valid: (ctx) => ({
      method: 'POST',
      url: `/v1/conversations/${ctx.conversationA}/typing`,
      payload: { state: 'composing' },
    }),
    ok: 400,
    okSession: 200,
    foreign: (ctx) => ({
      method: 'POST',
      url: `/v1/conversations/${ctx.conversationA}/typing`,
      payload: { state: 'composing' },
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('CONVERSATION_NOT_FOUND');
    },
  },
  'POST /v1/conversations/:id/unread': {
    valid: (ctx) => ({ method: 'POST', url: `/v1/conversations/${ctx.conversationA}/unread` }),
    ok: 400,
    okSession: 200,
    foreign: (ctx) => ({ method: 'POST', url: `/v1/conversations/${ctx.conversationA}/unread` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('CONVERSATION_NOT_FOUND');
    },
  },
  'POST /v1/conversations/:id/assign': {
    valid: (ctx) => ({
      method: 'POST',
      url: `/v1/conversations/${ctx.conversationA}/assign`,
      payload: { userId: null },
    }),
    ok: 200,
    foreign: (ctx) => ({
      method: 'POST',
      url: `/v1/conversations/${ctx.conversationA}/assign`,
      payload: { userId: null },
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('CONVERSATION_NOT_FOUND');
    },
  },
  'POST /v1/reveal': {
    valid: (ctx) => ({ method: 'POST', url: '/v1/reveal', payload: { conversationId: ctx.conversationA } }),
    ok: 200,
    foreign: (ctx) => ({ method: 'POST', url: '/v1/reveal', payload: { conversationId: ctx.conversationA } }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('CONVERSATION_NOT_FOUND');
    },
  },
  'GET /v1/events': {
    valid: (ctx) => ({ method: 'GET', url: `/v1/events?conversationId=${ctx.conversationA}`, stream: true }),
    ok: 200,
    // Opens; that no event of org A reaches it is tested with live traffic further down.
    foreign: (ctx) => ({
      method: 'GET',
      url: `/v1/events?conversationId=${ctx.conversationA}`,
      stream: true,
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect(answer.body).not.toContain('event:');
    },
  },
  'POST /v1/consent': {
    valid: () => ({
      method: 'POST',
      url: '/v1/consent',
      payload: {
        phone: CUSTOMER,
        kind: 'opt_in',
        source: 'verbal',
        evidence: 'Agreed on the phone on 2026-11-03',
      },
    }),
    ok: 201,
    foreign: () => ({
      method: 'POST',
      url: '/v1/consent',
      payload: {
        phone: CUSTOMER,
        kind: 'opt_out',
        source: 'api',
        evidence: 'Opt-out recorded by another org',
      },
    }),
    expectForeign: async (answer, ctx) => {
      // Org B may record its own consent, but that never touches org A's record.
      expect(answer.status).toBe(201);
      const seenByA = await call(
        ctx,
        { method: 'GET', url: `/v1/consent/${encodeURIComponent(CUSTOMER)}` },
        ctx.a.key,
      );
      expect(seenByA.json()).toMatchObject({ status: 'opted_in' });
    },
  },
  'GET /v1/consent/:phone': {
    valid: () => ({ method: 'GET', url: `/v1/consent/${encodeURIComponent(CUSTOMER)}` }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: `/v1/consent/${encodeURIComponent(CUSTOMER)}` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      const body = answer.json() as { status: string; events: { source: string }[] };
      expect(body.status).not.toBe('opted_in');
      expect(body.events.filter((e) => e.source !== 'api')).toEqual([]); // only org B's own API opt-out, if any
    },
  },
  'GET /v1/admin/crm/:crm/oauth/start': {
    // No OAuth app is configured in this relay: a holder of org.manage is told so (409).
    valid: () => ({ method: 'GET', url: '/v1/admin/crm/hubspot/oauth/start' }),
    ok: 409,
    foreign: () => ({ method: 'GET', url: '/v1/admin/crm/hubspot/oauth/start' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(409);
      expect(errorCode(answer)).toBe('CRM_OAUTH_NOT_CONFIGURED');
    },
  },
  // The installation's sandbox CRM serves every org: planning and installing are each org's own act.
  'GET /v1/admin/crm/:crm/install-plan': {
    valid: () => ({ method: 'GET', url: '/v1/admin/crm/sandbox/install-plan' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/admin/crm/hubspot/install-plan' }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('CRM_NOT_CONNECTED'),
  },
  'POST /v1/admin/crm/:crm/install': {
    valid: () => ({ method: 'POST', url: '/v1/admin/crm/sandbox/install' }),
    ok: 200,
    foreign: () => ({ method: 'POST', url: '/v1/admin/crm/hubspot/install' }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('CRM_NOT_CONNECTED'),
  },
  'GET /v1/admin/crm/status': {
    valid: () => ({ method: 'GET', url: '/v1/admin/crm/status' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/admin/crm/status' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ connections: [] });
    },
  },
  'GET /v1/admin/crm/dead-letters': {
    valid: () => ({ method: 'GET', url: '/v1/admin/crm/dead-letters?state=all' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/admin/crm/dead-letters?state=all' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ deadLetters: [] });
    },
  },
  'GET /v1/sessions': {
    valid: () => ({ method: 'GET', url: '/v1/sessions' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/sessions' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ sessions: [] });
    },
  },
  'DELETE /v1/sessions/:id': {
    // No session of the caller has this id (API keys have none): refused as not found.
    valid: () => ({ method: 'DELETE', url: `/v1/sessions/${randomUUID()}` }),
    ok: 404,
    foreign: (ctx) => ({ method: 'DELETE', url: `/v1/sessions/${ctx.sessionA}` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('SESSION_NOT_FOUND');
    },
  },
  'POST /v1/auth/logout': {
    // An API key has no session to end: a clear 400, after authentication and authorization.
    valid: () => ({ method: 'POST', url: '/v1/auth/logout' }),
    ok: 400,
    okSession: 204,
    foreign: () => ({ method: 'POST', url: '/v1/auth/logout' }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('NOT_A_SESSION'),
  },
  'POST /v1/auth/reauth': {
    // API keys prove nothing about a person (400); the test sessions' users have no password (409).
    valid: () => ({ method: 'POST', url: '/v1/auth/reauth', payload: { password: 'not the password' } }),
    ok: 400,
    okSession: 409,
    foreign: () => ({ method: 'POST', url: '/v1/auth/reauth', payload: { password: 'not the password' } }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('NOT_A_SESSION'),
  },
  'POST /v1/auth/totp/enrol': {
    valid: () => ({ method: 'POST', url: '/v1/auth/totp/enrol' }),
    ok: 400,
    okSession: 201,
    foreign: () => ({ method: 'POST', url: '/v1/auth/totp/enrol' }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('NOT_A_SESSION'),
  },
  'POST /v1/auth/totp/confirm': {
    valid: () => ({ method: 'POST', url: '/v1/auth/totp/confirm', payload: { code: '123456' } }),
    ok: 400,
    // Not enrolling yet (409), or enrolling and the code is wrong (422).
    okSession: [409, 422],
    foreign: () => ({ method: 'POST', url: '/v1/auth/totp/confirm', payload: { code: '123456' } }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('NOT_A_SESSION'),
  },
  'POST /v1/auth/passkeys/options': {
    valid: () => ({ method: 'POST', url: '/v1/auth/passkeys/options' }),
    ok: 400,
    okSession: 200,
    foreign: () => ({ method: 'POST', url: '/v1/auth/passkeys/options' }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('NOT_A_SESSION'),
  },
  'POST /v1/auth/passkeys': {
    // A well-formed credential for a challenge never issued: refused after authorization.
    valid: () => ({
      method: 'POST',
      url: '/v1/auth/passkeys',
      payload: {
        response: {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'public-key',
          response: { clientDataJSON: 'e30', attestationObject: 'oA' },
        },
      },
    }),
    ok: 400,
    okSession: 422,
    foreign: () => ({
      method: 'POST',
      url: '/v1/auth/passkeys',
      payload: {
        response: {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'public-key',
          response: { clientDataJSON: 'e30', attestationObject: 'oA' },
        },
      },
    }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('NOT_A_SESSION'),
  },
  'GET /v1/auth/passkeys': {
    valid: () => ({ method: 'GET', url: '/v1/auth/passkeys' }),
    ok: 400,
    okSession: 200,
    foreign: () => ({ method: 'GET', url: '/v1/auth/passkeys' }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('NOT_A_SESSION'),
  },
  'DELETE /v1/auth/passkeys/:id': {
    valid: () => ({ method: 'DELETE', url: `/v1/auth/passkeys/${randomUUID()}` }),
    ok: 400,
    okSession: 404,
    foreign: () => ({ method: 'DELETE', url: `/v1/auth/passkeys/${randomUUID()}` }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('NOT_A_SESSION'),
  },
  'GET /v1/users': {
    valid: () => ({ method: 'GET', url: '/v1/users' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/users' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ users: [] });
    },
  },
  'POST /v1/users': {
    valid: () => ({
      method: 'POST',
      url: '/v1/users',
      payload: { email: `rep-${randomUUID()}@example.com`, role: 'rep' },
    }),
    ok: 201,
    foreign: () => ({
      method: 'POST',
      url: '/v1/users',
      payload: { email: 'b-rep@example.com', role: 'rep' },
    }),
    expectForeign: (answer) => expect(answer.status).toBe(201),
  },
  'PUT /v1/users/:id/role': {
    valid: (ctx) => ({ method: 'PUT', url: `/v1/users/${ctx.userA}/role`, payload: { role: 'rep' } }),
    ok: 200,
    foreign: (ctx) => ({ method: 'PUT', url: `/v1/users/${ctx.userA}/role`, payload: { role: 'owner' } }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('USER_NOT_FOUND');
    },
  },
  'POST /v1/users/:id/deactivate': {
    // Deactivating again answers like the first time, so every permitted role may repeat it.
    valid: (ctx) => ({ method: 'POST', url: `/v1/users/${ctx.userA}/deactivate` }),
    ok: 200,
    foreign: (ctx) => ({ method: 'POST', url: `/v1/users/${ctx.userA}/deactivate` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('USER_NOT_FOUND');
    },
  },
  // Org B's verdict covers only org B's chain: it never ends at org A's newest entry.
  'GET /v1/audit/verify': {
    valid: () => ({ method: 'GET', url: '/v1/audit/verify' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/audit/verify' }),
    expectForeign: async (answer, ctx) => {
      expect(answer.status).toBe(200);
      const ofA = await call(ctx, { method: 'GET', url: '/v1/audit?limit=1' }, ctx.keysA.owner);
      const headA = (ofA.json() as { entries: { hash: string }[] }).entries[0]?.hash;
      expect(headA).toBeDefined();
      expect(answer.json()).toMatchObject({ intact: true });
      expect((answer.json() as { headHash: string | null }).headHash).not.toBe(headA);
    },
  },
  'GET /v1/audit': {
    valid: () => ({ method: 'GET', url: '/v1/audit?limit=5' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/audit?limit=500' }),
    expectForeign: (answer, ctx) => {
      expect(answer.status).toBe(200);
      const actors = (answer.json() as { entries: { actor: string }[] }).entries.map((e) => e.actor);
      const ofA = [
        ...ctx.keyIdsA.map((id) => `api-key:${id}`),
        ...Object.values(ctx.usersA).map((id) => `user:${id}`),
      ];
      expect(actors.filter((actor) => ofA.includes(actor))).toEqual([]);
    },
  },
  'GET /v1/audit/export': {
    valid: () => ({ method: 'GET', url: '/v1/audit/export?format=jsonl' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/audit/export?format=jsonl' }),
    expectForeign: (answer, ctx) => {
      expect(answer.status).toBe(200);
      const ofA = [
        ...ctx.keyIdsA.map((id) => `api-key:${id}`),
        ...Object.values(ctx.usersA).map((id) => `user:${id}`),
      ];
      const lines = answer.body.split('\n').filter((l) => l !== '');
      expect(lines.length).toBeGreaterThan(0);
      expect(
        lines.map((l) => (JSON.parse(l) as { actor: string }).actor).filter((a) => ofA.includes(a)),
      ).toEqual([]);
    },
  },
  'GET /v1/roles': {
    valid: () => ({ method: 'GET', url: '/v1/roles' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/roles' }),
    expectForeign: (answer) => expect(answer.status).toBe(200),
  },
  'POST /v1/roles': {
    valid: () => ({
      method: 'POST',
      url: '/v1/roles',
      payload: { name: `r${randomUUID().slice(0, 8).replace(/-/g, '')}`, permissions: ['numbers.view'] },
    }),
    ok: 201,
    foreign: () => ({ method: 'POST', url: '/v1/roles', payload: { name: 'b_role', permissions: [] } }),
    expectForeign: (answer) => expect(answer.status).toBe(201),
  },
  'GET /v1/api-keys': {
    valid: () => ({ method: 'GET', url: '/v1/api-keys' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/api-keys' }),
    expectForeign: (answer, ctx) => {
      expect(answer.status).toBe(200);
      for (const id of ctx.keyIdsA) expect(answer.body).not.toContain(id);
    },
  },
  // Org B's owner reads and changes org B's settings only: org A's stay as they were.
  'GET /v1/org/settings': {
    valid: () => ({ method: 'GET', url: '/v1/org/settings' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/org/settings' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      const help = (answer.json() as { settings: { key: string; value: unknown }[] }).settings.find(
        (s) => s.key === 'reviewSamplePercent',
      );
      expect(help?.value).not.toBe(7);
    },
  },
  // Settings are a person's decision: every key (org B's owner's included) is refused.
  'PUT /v1/org/settings/:key': {
    valid: () => ({ method: 'PUT', url: '/v1/org/settings/reviewSamplePercent', payload: { value: 7 } }),
    ok: 200,
    keyRefused: 'SESSION_REQUIRED',
    foreign: () => ({ method: 'PUT', url: '/v1/org/settings/reviewSamplePercent', payload: { value: 3 } }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('SESSION_REQUIRED'),
  },
  'GET /v1/policy': {
    valid: () => ({ method: 'GET', url: '/v1/policy' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/policy' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      // Org A published version 2 (below); org B still reads its own default.
      expect(answer.json()).toMatchObject({ version: 1, publishedAt: null });
    },
  },
  'POST /v1/policy/acknowledge': {
    valid: () => ({ method: 'POST', url: '/v1/policy/acknowledge', payload: { version: 1 } }),
    // A key is not a person; a session acknowledges the current version, or hears it changed.
    ok: 200,
    okSession: [200, 409],
    keyRefused: 'SESSION_REQUIRED',
    foreign: () => ({ method: 'POST', url: '/v1/policy/acknowledge', payload: { version: 2 } }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('SESSION_REQUIRED'),
  },
  'PUT /v1/policy': {
    valid: () => ({ method: 'PUT', url: '/v1/policy', payload: { body: `Org A policy ${randomUUID()}` } }),
    ok: 200,
    foreign: () => ({ method: 'PUT', url: '/v1/policy', payload: { body: 'Org B policy' } }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
    },
  },
  'GET /v1/policy/acknowledgements': {
    valid: () => ({ method: 'GET', url: '/v1/policy/acknowledgements' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/policy/acknowledgements' }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(200);
      const emails = (answer.json() as { people: { email: string }[] }).people.map((p) => p.email);
      expect(emails.filter((e) => e.endsWith('-session@example.com') || e === 'rep-a@example.com')).toEqual(
        [],
      );
    },
  },
  'POST /v1/api-keys': {
    // Minting a key needs a person who just proved a credential; sessions here have just signed in.
    valid: () => ({ method: 'POST', url: '/v1/api-keys', payload: { name: 'integration', role: 'auditor' } }),
    ok: 201,
    keyRefused: 'SESSION_REQUIRED',
    foreign: () => ({
      method: 'POST',
      url: '/v1/api-keys',
      payload: { name: 'integration', role: 'auditor' },
    }),
    expectForeign: (answer) => expect(errorCode(answer)).toBe('SESSION_REQUIRED'),
  },
  'POST /v1/legal-holds': {
    valid: () => ({
      method: 'POST',
      url: '/v1/legal-holds',
      payload: { phone: CUSTOMER, reason: 'Matter 1' },
    }),
    ok: 201,
    // Org B cannot hold org A's conversation: it is not found, as if it did not exist.
    foreign: (ctx) => ({
      method: 'POST',
      url: '/v1/legal-holds',
      payload: { conversationId: ctx.conversationA, reason: 'not mine' },
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('CONVERSATION_NOT_FOUND');
    },
  },
  'GET /v1/legal-holds': {
    valid: () => ({ method: 'GET', url: '/v1/legal-holds' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/legal-holds' }),
    expectForeign: (answer, ctx) => {
      expect(answer.status).toBe(200);
      expect(answer.body).not.toContain(CUSTOMER);
      expect(answer.body).not.toContain(ctx.conversationA);
    },
  },
  'POST /v1/legal-holds/:id/release': {
    // No hold of the caller's org has this id: refused as not found, after authorization.
    valid: () => ({ method: 'POST', url: `/v1/legal-holds/${randomUUID()}/release` }),
    ok: 404,
    foreign: () => ({ method: 'POST', url: `/v1/legal-holds/${randomUUID()}/release` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('HOLD_NOT_FOUND');
    },
  },
  'DELETE /v1/api-keys/:id': {
    // No key of the caller's org has this id: refused as not found, after authorization.
    valid: () => ({ method: 'DELETE', url: `/v1/api-keys/${randomUUID()}` }),
    ok: 404,
    foreign: (ctx) => ({ method: 'DELETE', url: `/v1/api-keys/${ctx.keyIdsA[0]}` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('API_KEY_NOT_FOUND');
    },
  },
  'GET /v1/sso/saml': {
    valid: () => ({ method: 'GET', url: '/v1/sso/saml' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/sso/saml' }),
    expectForeign: (answer) => expect(answer.status).toBe(200),
  },
  'PUT /v1/sso/saml': {
    valid: () => ({ method: 'PUT', url: '/v1/sso/saml', payload: SAML_SETTINGS }),
    ok: 200,
    keyRefused: 'SESSION_REQUIRED',
    foreign: () => ({ method: 'PUT', url: '/v1/sso/saml', payload: SAML_SETTINGS }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(403);
      expect(errorCode(answer)).toBe('SESSION_REQUIRED');
    },
  },
  'POST /v1/users/:id/sso-link': {
    // Org A has SSO configured (beforeAll); linking the same rep again answers like the first time.
    valid: (ctx) => ({
      method: 'POST',
      url: `/v1/users/${ctx.userA}/sso-link`,
      payload: { nameId: 'rep@idp.example.test' },
    }),
    ok: 200,
    keyRefused: 'SESSION_REQUIRED',
    foreign: (ctx) => ({
      method: 'POST',
      url: `/v1/users/${ctx.userA}/sso-link`,
      payload: { nameId: 'attacker@idp.example.test' },
    }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(403);
      expect(errorCode(answer)).toBe('SESSION_REQUIRED');
    },
  },
  'POST /v1/admin/crm/dead-letters/:id/replay': {
    // Replaying again answers like the first time, so every permitted role may repeat it.
    valid: (ctx) => ({ method: 'POST', url: `/v1/admin/crm/dead-letters/${ctx.deadLetterA}/replay` }),
    ok: 200,
    foreign: (ctx) => ({ method: 'POST', url: `/v1/admin/crm/dead-letters/${ctx.deadLetterA}/replay` }),
    expectForeign: (answer) => {
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('DEAD_LETTER_NOT_FOUND');
    },
  },
  'GET /v1/contacts/lookup': {
    valid: () => ({ method: 'GET', url: '/v1/contacts/lookup?crm=sandbox&objectType=contact&id=c-1001' }),
    ok: 200,
    foreign: () => ({ method: 'GET', url: '/v1/contacts/lookup?crm=sandbox&objectType=contact&id=c-1001' }),
    expectForeign: (answer) => {
      // c-1001's phone is CUSTOMER, opted in by org A only.
      expect(answer.status).toBe(200);
      expect((answer.json() as { consent: { status: string } }).consent.status).not.toBe('opted_in');
    },
  },
  'POST /v1/contacts/escalate': {
    valid: () => ({
      method: 'POST',
      url: '/v1/contacts/escalate',
      payload: {
        crm: 'sandbox',
        objectType: 'contact',
        id: 'c-1001',
        kind: 'call',
        note: 'Asked about her bill; call her back.',
      },
    }),
    ok: 201,
    foreign: () => ({
      method: 'POST',
      url: '/v1/contacts/escalate',
      payload: { crm: 'sandbox', objectType: 'contact', id: 'c-1001', kind: 'email', note: 'From org B' },
    }),
    expectForeign: (answer) => {
      // The sandbox CRM belongs to the installation (as for the lookup): org B may log its own
      // task there, and the answer names only that task.
      expect(answer.status).toBe(201);
      expect(answer.json()).toEqual({
        activity: { id: expect.any(String), kind: 'email', crm: 'sandbox' },
      });
    },
  },
  'POST /v1/contacts/reveal': {
    valid: () => ({
      method: 'POST',
      url: '/v1/contacts/reveal',
      payload: { crm: 'sandbox', objectType: 'contact', id: 'c-1001' },
    }),
    ok: 200,
    foreign: () => ({
      method: 'POST',
      url: '/v1/contacts/reveal',
      payload: { crm: 'sandbox', objectType: 'contact', id: 'c-1001' },
    }),
    expectForeign: (answer) => {
      // The sandbox CRM belongs to the installation (as for the lookup): org B reads its own CRM's
      // record, never anything of org A's (another org's conversation is POST /v1/reveal's 404).
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({
        contact: { crm: 'sandbox', objectType: 'contact', id: 'c-1001' },
        phone: CUSTOMER,
      });
    },
  },
};

/** Public routes and what they answer to an anonymous, harmless request. */
const PUBLIC: Record<string, { call: (ctx: Ctx) => Call; status: number }> = {
  'GET /healthz': { call: () => ({ method: 'GET', url: '/healthz' }), status: 200 },
  'GET /openapi.json': { call: () => ({ method: 'GET', url: '/openapi.json' }), status: 200 },
  'GET /docs': { call: () => ({ method: 'GET', url: '/docs' }), status: 200 },
  'GET /setup': { call: () => ({ method: 'GET', url: '/setup?token=not-a-token' }), status: 403 },
  'POST /setup': {
    call: () => ({
      method: 'POST',
      url: '/setup',
      payload: {
        token: 'not-a-token',
        orgName: 'Evil Corp',
        adminEmail: 'mallory@example.com',
        adminPassword: 'correct horse battery staple',
        adminPasswordConfirm: 'correct horse battery staple',
      },
    }),
    status: 403,
  },
  'GET /sandbox/phone': { call: () => ({ method: 'GET', url: '/sandbox/phone' }), status: 200 },
  'GET /sandbox/phone/app.js': { call: () => ({ method: 'GET', url: '/sandbox/phone/app.js' }), status: 200 },
  'GET /sandbox/phone/api/state': {
    call: () => ({ method: 'GET', url: '/sandbox/phone/api/state' }),
    status: 200,
  },
  'POST /sandbox/phone/api/send': {
    call: (ctx) => ({
      method: 'POST',
      url: '/sandbox/phone/api/send',
      payload: { handset: CUSTOMER, service: ctx.a.sender, text: 'Hi there' },
    }),
    status: 202,
  },
  'GET /sandbox/crm': { call: () => ({ method: 'GET', url: '/sandbox/crm' }), status: 200 },
  // The customer's payment page: a link's token is the credential; an unknown one is refused.
  'GET /p/:token': { call: () => ({ method: 'GET', url: `/p/${'A'.repeat(22)}` }), status: 404 },
  'POST /p/:token/opened': {
    call: () => ({ method: 'POST', url: `/p/${'A'.repeat(22)}/opened` }),
    status: 404,
  },
  'POST /p/:token/pay': {
    call: () => ({
      method: 'POST',
      url: `/p/${'A'.repeat(22)}/pay`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    }),
    status: 404,
  },
  'GET /p/:token/done': { call: () => ({ method: 'GET', url: `/p/${'A'.repeat(22)}/done` }), status: 404 },
  'GET /assets/payment-page.js': {
    call: () => ({ method: 'GET', url: '/assets/payment-page.js' }),
    status: 200,
  },
  'GET /sandbox/checkout/:id': {
    call: () => ({ method: 'GET', url: `/sandbox/checkout/cs_sandbox_${'0'.repeat(24)}` }),
    status: 404,
  },
  'POST /sandbox/checkout/:id': {
    call: () => ({
      method: 'POST',
      url: `/sandbox/checkout/cs_sandbox_${'0'.repeat(24)}`,
      payload: { action: 'pay' },
    }),
    status: 404,
  },
  'GET /sandbox/checkout/app.js': {
    call: () => ({ method: 'GET', url: '/sandbox/checkout/app.js' }),
    status: 200,
  },
  'GET /v1/crm/oauth/:crm/callback': {
    call: () => ({ method: 'GET', url: '/v1/crm/oauth/hubspot/callback?code=forged&state=forged' }),
    status: 409,
  },
  'GET /sandbox/mail': { call: () => ({ method: 'GET', url: '/sandbox/mail' }), status: 200 },
  'POST /v1/auth/login': {
    call: () => ({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: 'nobody@example.com', password: 'not the password at all' },
    }),
    status: 401,
  },
  'POST /v1/auth/mfa': {
    call: () => ({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken: 'A'.repeat(43), code: '123456' },
    }),
    status: 401,
  },
  'POST /v1/auth/mfa/passkey/options': {
    call: () => ({
      method: 'POST',
      url: '/v1/auth/mfa/passkey/options',
      payload: { mfaToken: 'A'.repeat(43) },
    }),
    status: 401,
  },
  'POST /v1/auth/mfa/passkey': {
    call: () => ({
      method: 'POST',
      url: '/v1/auth/mfa/passkey',
      payload: {
        mfaToken: 'A'.repeat(43),
        response: {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'public-key',
          response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
        },
      },
    }),
    status: 401,
  },
  'POST /v1/auth/passkey/options': {
    call: () => ({ method: 'POST', url: '/v1/auth/passkey/options', payload: {} }),
    status: 200,
  },
  'POST /v1/auth/passkey': {
    call: () => ({
      method: 'POST',
      url: '/v1/auth/passkey',
      payload: {
        response: {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'public-key',
          response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
        },
      },
    }),
    status: 401,
  },
  'POST /v1/auth/refresh': {
    call: () => ({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: `ctr_${'A'.repeat(43)}` },
    }),
    status: 401,
  },
  'POST /v1/auth/password-reset': {
    call: () => ({
      method: 'POST',
      url: '/v1/auth/password-reset',
      payload: { email: 'nobody@example.com' },
    }),
    status: 202,
  },
  'POST /v1/auth/password-reset/confirm': {
    call: () => ({
      method: 'POST',
      url: '/v1/auth/password-reset/confirm',
      payload: { token: 'A'.repeat(43), password: 'a long enough new password' },
    }),
    status: 400,
  },
  'POST /v1/auth/verify-email': {
    call: () => ({ method: 'POST', url: '/v1/auth/verify-email', payload: { token: 'A'.repeat(43) } }),
    status: 400,
  },
  'GET /v1/sso/saml/:orgId/login': {
    call: () => ({ method: 'GET', url: `/v1/sso/saml/${randomUUID()}/login` }),
    status: 404,
  },
  'POST /v1/sso/saml/:orgId/acs': {
    call: () => ({
      method: 'POST',
      url: `/v1/sso/saml/${randomUUID()}/acs`,
      payload: { SAMLResponse: 'PHg+' },
    }),
    status: 404,
  },
  'GET /v1/sso/saml/done': { call: () => ({ method: 'GET', url: '/v1/sso/saml/done' }), status: 200 },
  'GET /auth/reset': {
    call: () => ({ method: 'GET', url: `/auth/reset?token=${'A'.repeat(43)}` }),
    status: 400,
  },
  'POST /auth/reset': {
    call: () => ({
      method: 'POST',
      url: '/auth/reset',
      payload: {
        token: 'A'.repeat(43),
        password: 'correct horse battery staple',
        confirm: 'correct horse battery staple',
      },
    }),
    status: 400,
  },
  'GET /auth/verify': {
    call: () => ({ method: 'GET', url: `/auth/verify?token=${'A'.repeat(43)}` }),
    status: 400,
  },
  'POST /auth/verify': {
    call: () => ({ method: 'POST', url: '/auth/verify', payload: { token: 'A'.repeat(43) } }),
    status: 400,
  },
  'POST /auth/enrol': {
    call: () => ({ method: 'POST', url: '/auth/enrol', payload: { token: 'A'.repeat(43), code: '123456' } }),
    status: 400,
  },
  'GET /auth/done': { call: () => ({ method: 'GET', url: '/auth/done?step=joined' }), status: 200 },
  'GET /assets/pages.css': { call: () => ({ method: 'GET', url: '/assets/pages.css' }), status: 200 },
  'GET /admin': { call: () => ({ method: 'GET', url: '/admin' }), status: 200 },
  'GET /admin/': { call: () => ({ method: 'GET', url: '/admin/' }), status: 200 },
  'GET /admin/assets/:file': {
    call: () => ({ method: 'GET', url: '/admin/assets/console-test.js' }),
    status: 200,
  },
  'GET /assets/copy-button.js': {
    call: () => ({ method: 'GET', url: '/assets/copy-button.js' }),
    status: 200,
  },
  'POST /v1/sso/saml/link': {
    call: () => ({
      method: 'POST',
      url: '/v1/sso/saml/link',
      payload: { linkToken: 'A'.repeat(43), password: 'not the password' },
    }),
    status: 401,
  },
  'POST /v1/sso/saml/exchange': {
    call: () => ({ method: 'POST', url: '/v1/sso/saml/exchange', payload: { code: 'A'.repeat(43) } }),
    status: 401,
  },
  'GET /sandbox/crm/contacts/:id': {
    call: () => ({ method: 'GET', url: '/sandbox/crm/contacts/c-1001' }),
    status: 200,
  },
};

/** Webhook routes and the form fields of a well-formed callback. */
const WEBHOOKS: Record<string, (ctx: Ctx) => Record<string, string>> = {
  'POST /webhooks/plivo/inbound': (ctx) => ({
    From: CUSTOMER.slice(1),
    To: ctx.a.sender.slice(1),
    Text: 'Thanks!',
    Type: 'sms',
    MessageUUID: randomUUID(),
  }),
  'POST /webhooks/plivo/status': () => ({ MessageUUID: randomUUID(), Status: 'delivered' }),
  // Signed by HubSpot (v3, JSON body), not Plivo: checked by its own tests below and in test/crm-sync.
  'POST /webhooks/hubspot': () => ({}),
  // Signed by the payment provider (Stripe-Signature over the raw JSON body): its own tests below.
  'POST /webhooks/payments': () => ({}),
};

// ---------------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------------

const db = await freshPglite();
/** The relay's clock: sessions are created on it so they have not expired by its time. */
const clock = daytimeClock();
const relay: TestRelay = await testRelay(db, { clock });
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
const routeKey = (r: RouteInfo) => `${r.method} ${r.url}`;

function answerOf(status: number, body: string): Answer {
  return { status, body, json: () => JSON.parse(body) as unknown };
}

/** Sends a request with the given key (or none) and returns status and body. */
async function call(
  ctx: Ctx,
  req: Call,
  key: string | null,
  extra: Record<string, string> = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...req.headers, ...extra };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (req.stream === true) {
    const response = await readTextResponse(`${ctx.baseUrl}${req.url}`, headers);
    if (response.status === 200) {
      expect(response.contentType).toMatch(/^text\/event-stream/);
      await new Promise((r) => setTimeout(r, 50));
      await response.close();
    } else {
      await response.ended();
    }
    return answerOf(response.status, response.stream.text);
  }
  const response = await relay.app.inject({
    method: req.method,
    url: req.url,
    headers,
    payload: req.payload,
  });
  return answerOf(response.statusCode, response.body);
}

async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('route access control', () => {
  let ctx: Ctx;

  beforeAll(async () => {
    const a = await seedOrg(db, { role: 'owner', name: 'Org A Dental', sender: SENDER });
    const b = await seedOrg(db, { role: 'owner', name: 'Org B Plumbing', sender: ORG_B_SENDER });
    // Every role asks one customer for a payment here; the guards are tested in payment-guards.test.ts.
    await setPaymentGuards(db, a.orgId, MANY_LINKS);
    await saveSamlSettings(
      db,
      {
        orgId: a.orgId,
        idp: {
          idpEntityId: SAML_SETTINGS.idpEntityId,
          ssoUrl: SAML_SETTINGS.ssoUrl,
          idpCert: normalizeCertificate(SAML_SETTINGS.idpCertificate),
        },
        defaultRole: 'rep',
        ssoOnly: null,
        actor: 'test',
        ip: '127.0.0.1',
      },
      clock(),
    );
    const keysA = {} as Record<Role, string>;
    const keyIdsA: string[] = [];
    for (const role of ROLE_NAMES) {
      const created = await createKeyForOrg(db, { orgId: a.orgId, role, name: `${role} key` });
      keysA[role] = created.key;
      keyIdsA.push(created.keyId);
    }
    await optIn(relay.app, a, CUSTOMER);
    const sent = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...a.auth, 'idempotency-key': idemKey() },
      payload: { from: a.sender, to: CUSTOMER, body: 'Org A private message' },
    });
    if (sent.statusCode !== 202) throw new Error(`seed send failed: ${sent.body}`);
    const message = (sent.json() as { message: { id: string; conversationId: string } }).message;
    await relay.sandbox.textFromHandset({ handset: '+12025550177', service: a.sender, text: 'no thanks' });
    const [review] = await db.query<{ id: string }>('SELECT id FROM consent_reviews WHERE org_id = $1', [
      a.orgId,
    ]);
    if (review === undefined) throw new Error('seed review missing');
    const deadLetterA = randomUUID();
    const connectionA = randomUUID();
    await db.query(
      `INSERT INTO crm_connections (id, org_id, crm, secrets, status, event_cursor_tx, event_cursor_id, consent_cursor_tx, consent_cursor_id)
       VALUES ($1, $2, 'hubspot', 'v1:00000000:AAAA', 'disconnected', 0, 0, 0, 0)`,
      [connectionA, a.orgId],
    );
    const [job] = await db.query<{ id: number }>(
      `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject, state) VALUES ($1, $2, 'message', $3, 'dead') RETURNING id`,
      [connectionA, a.orgId, message.id],
    );
    await db.query(
      `INSERT INTO crm_dead_letters (id, org_id, connection_id, job_id, kind, subject, error_code, error_message, attempts)
       VALUES ($1, $2, $3, $4, 'message', $5, 'invalid_request', 'refused by the CRM', 8)`,
      [deadLetterA, a.orgId, connectionA, job?.id, message.id],
    );
    const userA = randomUUID();
    await db.query(
      `INSERT INTO users (id, org_id, email, role) VALUES ($1, $2, 'rep-a@example.com', 'rep')`,
      [userA, a.orgId],
    );
    const sessionA = (
      await createSession(db, { orgId: a.orgId, userId: userA, stage: 'full', now: new Date() })
    ).sessionId;
    const usersA = {} as Record<Role, string>;
    for (const role of ROLE_NAMES) {
      usersA[role] = randomUUID();
      await db.query(`INSERT INTO users (id, org_id, email, role) VALUES ($1, $2, $3, $4)`, [
        usersA[role],
        a.orgId,
        `${role}-session@example.com`,
        role,
      ]);
    }
    // A rep sees only conversations it sent in: it sends in conversationA with its session.
    const repSession = await createSession(db, {
      orgId: a.orgId,
      userId: usersA.rep,
      stage: 'full',
      now: clock(),
    });
    const repSent = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: `Bearer ${repSession.accessToken}`, 'idempotency-key': idemKey() },
      payload: { from: a.sender, to: CUSTOMER, body: 'A rep follows up' },
    });
    if (repSent.statusCode !== 202) throw new Error(`rep send failed: ${repSent.body}`);
    const [numberA] = await db.query<{ id: string }>(
      'SELECT id::text AS id FROM sender_numbers WHERE org_id = $1',
      [a.orgId],
    );
    if (numberA === undefined) throw new Error('seed number missing');
    const baseUrl = await relay.app.listen({ port: 0, host: '127.0.0.1' });
    ctx = {
      numberA: numberA.id,
      usersA,
      userA,
      sessionA,
      a,
      b,
      keysA,
      keyIdsA,
      conversationA: message.conversationId,
      messageA: message.id,
      reviewA: review.id,
      deadLetterA,
      baseUrl,
    };
  });

  afterAll(async () => {
    await relay.close();
    await db.close();
  });

  describe('the route table', () => {
    it('lists the same routes the relay app serves', () => {
      expect(routes.length).toBeGreaterThan(0);
      for (const r of routes)
        expect(relay.app.hasRoute({ method: r.method, url: r.url }), routeKey(r)).toBe(true);
      const printed = [...relay.app.printRoutes({ commonPrefix: false }).matchAll(/\(([A-Z, ]+)\)/g)]
        .flatMap((m) => (m[1] as string).split(', '))
        .filter((m) => m !== 'HEAD');
      expect(printed.length).toBe(routes.length);
    });

    it('has every route declare config.access as a known permission, a public reason or a webhook provider', () => {
      const problems: string[] = [];
      for (const r of routes) {
        const access = r.access;
        if (access === undefined) problems.push(`${routeKey(r)} declares no config.access`);
        else if (access.kind === 'permission') {
          if (!(PERMISSIONS as readonly string[]).includes(access.permission)) {
            problems.push(`${routeKey(r)} requires unknown permission "${access.permission}"`);
          }
        } else if (access.kind === 'public') {
          if (access.reason.trim() === '') problems.push(`${routeKey(r)} is public without a reason`);
        } else if (access.kind === 'webhook') {
          if (access.provider.trim() === '') problems.push(`${routeKey(r)} is a webhook without a provider`);
        } else problems.push(`${routeKey(r)} has an unknown access kind ${JSON.stringify(access)}`);
      }
      expect(problems).toEqual([]);
    });

    it('has a test case for every route, filed under the access kind the route declares', () => {
      const problems: string[] = [];
      for (const r of routes) {
        const key = routeKey(r);
        const kind = r.access?.kind;
        if (kind === 'permission' && !(key in GUARDED))
          problems.push(`${key} requires a permission but has no valid-request builder in GUARDED`);
        if (kind === 'public' && !(key in PUBLIC))
          problems.push(`${key} is public but is not listed in PUBLIC`);
        if (kind === 'webhook' && !(key in WEBHOOKS))
          problems.push(`${key} is a webhook but is not listed in WEBHOOKS`);
        if (kind !== 'permission' && key in GUARDED)
          problems.push(`${key} is in GUARDED but declares ${kind}`);
        if (kind !== 'public' && key in PUBLIC) problems.push(`${key} is in PUBLIC but declares ${kind}`);
        if (kind !== 'webhook' && key in WEBHOOKS)
          problems.push(`${key} is in WEBHOOKS but declares ${kind}`);
      }
      const known = new Set(routes.map(routeKey));
      for (const key of [...Object.keys(GUARDED), ...Object.keys(PUBLIC), ...Object.keys(WEBHOOKS)]) {
        if (!known.has(key)) problems.push(`${key} is in the test table but no longer exists`);
      }
      expect(problems).toEqual([]);
    });

    it('refuses to serve a route that declares no access rule (500 ROUTE_WITHOUT_ACCESS, handler never runs)', async () => {
      const app = Fastify({ logger: false });
      app.addHook('onRequest', accessHook(db));
      app.setErrorHandler((error, _request, reply) =>
        error instanceof ApiError
          ? reply.code(error.statusCode).send(envelope(error.code, error.message))
          : reply.code(500).send(envelope('INTERNAL_ERROR', 'unexpected')),
      );
      let ran = false;
      app.get('/undeclared', async () => {
        ran = true;
        return { leaked: true };
      });
      const response = await app.inject({ method: 'GET', url: '/undeclared', headers: ctx.a.auth });
      await app.close();
      expect(ran).toBe(false);
      expect(response.statusCode).toBe(500);
      expect(response.json()).toMatchObject({ error: { code: 'ROUTE_WITHOUT_ACCESS' } });
    });
  });

  describe('built-in roles', () => {
    it('give org.manage to owner and admin only, messages.send never to auditor or compliance_reviewer', () => {
      const holders = (p: Permission) => ROLE_NAMES.filter((r) => permissionsOf(r).includes(p)).sort();
      expect(holders('org.manage')).toEqual(['admin', 'owner']);
      expect(holders('messages.send')).toEqual(['admin', 'manager', 'owner', 'rep']);
      expect(holders('consent.record')).toEqual(['admin', 'compliance_reviewer', 'manager', 'owner', 'rep']);
      expect(
        // Reads only; an audited reveal of one number is a read too.
        [...permissionsOf('auditor')].every((p) =>
          /\.view(_all)?$|^export$|^account\.self$|^pii\.reveal$/.test(p),
        ),
      ).toBe(true);
      expect(holders('users.manage')).toEqual(['admin', 'owner']);
      expect(holders('pii.view')).not.toContain('auditor');
      // Roles that see every number need no reveal; the auditor's reveal is recorded each time.
      expect(holders('pii.reveal')).toEqual(['admin', 'auditor', 'owner']);
    });
  });

  for (const route of routes.filter((r) => r.access?.kind === 'permission')) {
    const key = routeKey(route);
    const permission = (route.access as { permission: Permission }).permission;

    describe(`${key} (requires ${permission})`, () => {
      const spec = (): GuardedCase => {
        const found = GUARDED[key];
        if (found === undefined) throw new Error(`${key} has no valid-request builder in GUARDED`);
        return found;
      };

      it.each([
        ['no Authorization header', null, {}],
        ['an empty Authorization header', null, { authorization: '' }],
        ['a Basic credential', null, { authorization: 'Basic dXNlcjpwYXNz' }],
        ['an unknown well-formed key', null, { authorization: `Bearer ctk_AAAAAAAA_${'A'.repeat(43)}` }],
      ] as const)('answers 401 UNAUTHENTICATED with %s', async (_name, keyValue, extra) => {
        const answer = await call(ctx, spec().valid(ctx), keyValue, { ...extra });
        expect(answer.status, answer.body).toBe(401);
        expect(errorCode(answer)).toBe('UNAUTHENTICATED');
      });

      it('answers 401 UNAUTHENTICATED with a revoked key', async () => {
        const revoked = await createKeyForOrg(db, { orgId: ctx.a.orgId, role: 'owner', name: 'revoked' });
        await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [revoked.keyId]);
        const answer = await call(ctx, spec().valid(ctx), revoked.key);
        expect(answer.status, answer.body).toBe(401);
        expect(errorCode(answer)).toBe('UNAUTHENTICATED');
      });

      for (const role of ROLE_NAMES) {
        const allowed = permissionsOf(role).includes(permission);
        it(
          allowed
            ? `lets ${role} through (${GUARDED[key]?.ok ?? 'no builder'} for a valid request)`
            : `answers 403 FORBIDDEN to ${role}, naming the missing permission`,
          async () => {
            const answer = await call(ctx, spec().valid(ctx), ctx.keysA[role]);
            const keyRefused = spec().keyRefused;
            if (allowed && keyRefused !== undefined) {
              expect(answer.status, answer.body).toBe(403);
              expect(errorCode(answer)).toBe(keyRefused);
            } else if (allowed) {
              expect(answer.status, answer.body).not.toBe(401);
              expect(answer.status, answer.body).not.toBe(403);
              expect(answer.status, answer.body).toBe(spec().ok);
            } else {
              expect(answer.status, answer.body).toBe(403);
              expect(answer.json()).toMatchObject({ error: { code: 'FORBIDDEN', details: { permission } } });
            }
          },
        );
      }

      for (const role of ROLE_NAMES) {
        const allowed = permissionsOf(role).includes(permission);
        it(
          allowed
            ? `lets a signed-in ${role} session through`
            : `answers 403 FORBIDDEN to a signed-in ${role} session`,
          async () => {
            // A fresh session per request: some routes (sign-out) end the session they are called with.
            const session = await createSession(db, {
              orgId: ctx.a.orgId,
              userId: ctx.usersA[role],
              stage: 'full',
              now: clock(),
            });
            const answer = await call(ctx, spec().valid(ctx), session.accessToken);
            if (allowed) {
              const expected = [spec().okSession ?? spec().ok].flat();
              expect(expected, answer.body).toContain(answer.status);
            } else {
              expect(answer.status, answer.body).toBe(403);
              expect(answer.json()).toMatchObject({ error: { code: 'FORBIDDEN', details: { permission } } });
            }
          },
        );
      }

      it("never shows another organisation's data to its key", async () => {
        const request = spec().foreign(ctx);
        const answer = await call(ctx, request, ctx.b.key);
        await spec().expectForeign(answer, ctx);
        // Org A's identifiers may only come back if org B's request itself named them (an echo).
        const named = JSON.stringify(request);
        const secrets = [ctx.a.orgId, ctx.a.sender, ctx.conversationA, ctx.messageA, ...ctx.keyIdsA];
        for (const secret of secrets.filter((s) => !named.includes(s))) {
          expect(answer.body, `org B's answer mentions org A's ${secret}`).not.toContain(secret);
        }
      });
    });
  }

  describe('public routes', () => {
    for (const route of routes.filter((r) => r.access?.kind === 'public')) {
      const key = routeKey(route);
      it(`${key} answers without a key, and a junk Authorization header changes nothing`, async () => {
        const spec = PUBLIC[key];
        if (spec === undefined) throw new Error(`${key} is public but not listed in PUBLIC`);
        const anonymous = await call(ctx, spec.call(ctx), null);
        expect(anonymous.status, anonymous.body).toBe(spec.status);
        const junk = await call(ctx, spec.call(ctx), null, { authorization: 'Bearer junk' });
        expect(junk.status, junk.body).toBe(spec.status);
      });
    }
  });

  describe('webhook routes', () => {
    for (const route of routes.filter((r) => r.access?.kind === 'webhook' && r.access.provider === 'plivo')) {
      const key = routeKey(route);
      const fields = (c: Ctx) => {
        const build = WEBHOOKS[key];
        if (build === undefined) throw new Error(`${key} is a webhook but not listed in WEBHOOKS`);
        return build(c);
      };
      const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
      const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };

      it(`${key} answers 403 INVALID_SIGNATURE unsigned, even with an owner API key`, async () => {
        for (const keyValue of [null, ctx.a.key]) {
          const answer = await call(
            ctx,
            { method: route.method, url: route.url, headers: formHeaders, payload: form(fields(ctx)) },
            keyValue,
          );
          expect(answer.status, answer.body).toBe(403);
          expect(errorCode(answer)).toBe('INVALID_SIGNATURE');
        }
      });

      it(`${key} answers 403 to a signature made with the wrong token or for other fields`, async () => {
        const params = fields(ctx);
        const nonce = '12345678901234567890';
        const wrongToken = signPlivoV3(
          'POST',
          `${relay.config.publicUrl}${route.url}`,
          params,
          nonce,
          'wrong-token',
        );
        const otherFields = signPlivoV3(
          'POST',
          `${relay.config.publicUrl}${route.url}`,
          { x: '1' },
          nonce,
          TEST_TOKEN,
        );
        for (const signature of [wrongToken, otherFields]) {
          const answer = await call(
            ctx,
            {
              method: route.method,
              url: route.url,
              headers: {
                ...formHeaders,
                'x-plivo-signature-v3': signature,
                'x-plivo-signature-v3-nonce': nonce,
              },
              payload: form(params),
            },
            null,
          );
          expect(answer.status, answer.body).toBe(403);
          expect(errorCode(answer)).toBe('INVALID_SIGNATURE');
        }
      });

      it(`${key} accepts a correctly signed callback without any API key`, async () => {
        const params = fields(ctx);
        // Nonces are single-use across the provider's webhooks: one per route here.
        const nonce = `9876543210${route.url.length}${route.url.endsWith('status') ? 1 : 2}`;
        const signature = signPlivoV3(
          'POST',
          `${relay.config.publicUrl}${route.url}`,
          params,
          nonce,
          TEST_TOKEN,
        );
        const answer = await call(
          ctx,
          {
            method: route.method,
            url: route.url,
            headers: {
              ...formHeaders,
              'x-plivo-signature-v3': signature,
              'x-plivo-signature-v3-nonce': nonce,
            },
            payload: form(params),
          },
          null,
        );
        expect(answer.status, answer.body).toBe(200);
      });
    }
  });

  describe('payment webhook route', () => {
    it('POST /webhooks/payments answers 403 INVALID_SIGNATURE unsigned or wrongly signed, even with an owner API key', async () => {
      const body = JSON.stringify({
        id: 'evt_probe',
        object: 'event',
        created: 1,
        type: 'checkout.session.completed',
        data: { object: { id: 'cs_x', metadata: {} } },
      });
      const t = String(Math.floor(clock().getTime() / 1000));
      for (const [keyValue, headers] of [
        [null, {}],
        [ctx.a.key, {}],
        [null, { 'stripe-signature': `t=${t},v1=${'0'.repeat(64)}` }],
      ] as const) {
        const answer = await call(
          ctx,
          {
            method: 'POST',
            url: '/webhooks/payments',
            headers: { 'content-type': 'application/json', ...headers },
            payload: body,
          },
          keyValue,
        );
        expect(answer.status, answer.body).toBe(403);
        expect(errorCode(answer)).toBe('INVALID_SIGNATURE');
      }
    });
  });

  describe('HubSpot webhook route', () => {
    it('POST /webhooks/hubspot answers 403 INVALID_SIGNATURE unsigned or wrongly signed, even with an owner API key', async () => {
      const body = JSON.stringify([{ subscriptionType: 'contact.propertyChange', objectId: 1 }]);
      for (const [keyValue, headers] of [
        [null, {}],
        [ctx.a.key, {}],
        [null, { 'x-hubspot-signature-v3': 'AAAA', 'x-hubspot-request-timestamp': String(Date.now()) }],
      ] as const) {
        const answer = await call(
          ctx,
          {
            method: 'POST',
            url: '/webhooks/hubspot',
            headers: { 'content-type': 'application/json', ...headers },
            payload: body,
          },
          keyValue,
        );
        expect(answer.status, answer.body).toBe(403);
        expect(errorCode(answer)).toBe('INVALID_SIGNATURE');
      }
    });
  });

  describe('tenant isolation with live traffic', () => {
    it("streams org A's new message to org A's event stream and nothing to org B's", async () => {
      const streamA = await openTextStream(`${ctx.baseUrl}/v1/events`, ctx.a.auth);
      const streamB = await openTextStream(`${ctx.baseUrl}/v1/events`, ctx.b.auth);
      try {
        const sent = await relay.app.inject({
          method: 'POST',
          url: '/v1/messages',
          headers: { ...ctx.a.auth, 'idempotency-key': idemKey() },
          payload: { from: ctx.a.sender, to: CUSTOMER, body: 'Only org A may see this' },
        });
        expect(sent.statusCode, sent.body).toBe(202);
        const messageId = (sent.json() as { message: { id: string } }).message.id;
        expect(
          await eventually(() => streamA.stream.text.includes(messageId), 5000),
          'org A got its event',
        ).toBe(true);
        await new Promise((r) => setTimeout(r, 300));
        expect(streamB.stream.text).not.toContain('event:');
        expect(streamB.stream.text).not.toContain(messageId);
      } finally {
        await streamA.close();
        await streamB.close();
      }
    });

    it("keeps org B's key from listing org A's conversations with a cursor taken from org A's list", async () => {
      const first = await call(ctx, { method: 'GET', url: '/v1/conversations?limit=1' }, ctx.a.key);
      expect(first.status).toBe(200);
      const { conversations, nextCursor } = first.json() as {
        conversations: { id: string }[];
        nextCursor: string | null;
      };
      expect(conversations.map((c) => c.id)).toContain(ctx.conversationA);
      // A cursor is only a position in the list's order; org B reads its own rows from there on.
      const start = encodeURIComponent(
        nextCursor ?? Buffer.from(JSON.stringify([null, ctx.conversationA])).toString('base64url'),
      );
      const answer = await call(ctx, { method: 'GET', url: `/v1/conversations?cursor=${start}` }, ctx.b.key);
      expect(answer.status).toBe(200);
      expect(answer.body).not.toContain(ctx.conversationA);
    });

    it("keeps org B's key from reading org A's conversation even with a guessed cursor or limit", async () => {
      const answer = await call(
        ctx,
        { method: 'GET', url: `/v1/conversations/${ctx.conversationA}/messages?limit=200` },
        ctx.b.key,
      );
      expect(answer.status).toBe(404);
      expect(errorCode(answer)).toBe('CONVERSATION_NOT_FOUND');
      expect(answer.body).not.toContain('Org A private message');
    });
  });
});
