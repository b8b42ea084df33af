import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubSpotCrm } from '../../crm-plugins/hubspot/index.ts';
import type { CrmRegistry } from '../../crm-plugins/registry.ts';
import { createSandboxCrm, type SandboxCrm } from '../../crm-plugins/sandbox/index.ts';
import type { CrmPlugin } from '../../crm-plugins/types.ts';
import { buildApp } from '../../server/app.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { staticCrms } from '../../server/crm-sync/org-crms.ts';
import type { Database } from '../../server/db/database.ts';
import type { App, Deps } from '../../server/http/services.ts';
import { EventHub } from '../../server/live/events.ts';
import { Notifier } from '../../server/live/notifier.ts';
import { OutgoingMail } from '../../server/mail/outgoing.ts';
import { SandboxMailTransport } from '../../server/mail/transport.ts';
import { createKeyForOrg } from '../../server/organisations/org-admin.ts';
import { SandboxSmsNetwork } from '../../server/providers/sandbox-sms.ts';
import { escalationsRoutes } from '../../server/routes/escalations.ts';
import { SendBatcher } from '../../server/workers/send-batcher.ts';
import { type HubSpotFake, startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { freshPglite } from '../helpers/db.ts';
import { daytimeClock, seedOrg, TEST_TOKEN, type TestOrg, testConfig } from '../helpers/relay.ts';

/**
 * POST /v1/contacts/escalate on the real app (access hook, validation, error envelope). The app's
 * own CRM registry is out of a test's reach, so the same route is also mounted under /crm/<name>
 * with CRMs the test can look into: a sandbox CRM and HubSpot through the real SDK and its fake.
 */

const ESCALATE = '/v1/contacts/escalate';
const DANA = { crm: 'sandbox', objectType: 'contact', id: 'c-1001' } as const;

let db: Database;
let network: SandboxSmsNetwork;
let app: App;
let org: TestOrg;
let hubspot: HubSpotFake;
let hubspotContact: string;
const sandbox: SandboxCrm = createSandboxCrm();
/** The relay's clock: sessions are created on it so they have not expired by its time. */
const clock = daytimeClock();

function registryOf(plugin: CrmPlugin): CrmRegistry {
  return { get: (id) => (id === plugin.id ? plugin : null), list: () => [plugin] };
}

/** Mounts the escalation route under a prefix with its own CRM (before the app is ready). */
function mount(prefix: string, plugin: CrmPlugin): void {
  const config = testConfig();
  const deps: Deps = {
    config,
    db,
    sms: network,
    sandbox: network,
    hub: new EventHub(db),
    notifier: new Notifier(db),
    sends: new SendBatcher(db),
    crm: staticCrms(registryOf(plugin)),
    clock: () => new Date(),
    mail: new SandboxMailTransport(db),
    outgoingMail: new OutgoingMail(new SandboxMailTransport(db)),
    payments: null,
  };
  app.register(async (child) => escalationsRoutes(child, deps), { prefix });
}

beforeAll(async () => {
  db = await freshPglite();
  const config = testConfig();
  network = new SandboxSmsNetwork(db, TEST_TOKEN, config.publicUrl, () => undefined, {
    sentMs: 5,
    deliveredMs: 15,
  });
  hubspot = await startHubSpotFake();
  hubspotContact = hubspot.addContact({ firstname: 'Hana', lastname: 'Ito', phone: '+14155550123' });
  app = await buildApp({ config, db, sms: network, clock });
  mount('/crm/sandbox', sandbox);
  mount('/crm/hubspot', createHubSpotCrm({ accessToken: hubspot.accessToken, basePath: hubspot.baseUrl }));
  await app.ready();
  org = await seedOrg(db);
});

afterAll(async () => {
  await app.close();
  await network.close();
  await hubspot.close();
  await db.close();
});

const escalate = (payload: unknown, headers: Record<string, string> = org.auth, prefix = '/crm/sandbox') =>
  app.inject({ method: 'POST', url: `${prefix}${ESCALATE}`, headers, payload: payload as object });

describe('POST /v1/contacts/escalate', () => {
  it('logs a call-back task on the record, named for the contact, with the note and who escalated', async () => {
    const response = await escalate({ ...DANA, kind: 'call', note: '  Asked about her lab results.  ' });
    expect(response.statusCode, response.body).toBe(201);
    const { activity } = response.json() as { activity: { id: string; kind: string; crm: string } };
    expect(activity).toEqual({ id: expect.any(String), kind: 'call', crm: 'sandbox' });

    const task = sandbox.followUps(DANA).find((t) => t.id === activity.id);
    expect(task).toMatchObject({
      kind: 'call',
      subject: 'Call back Dana Whitfield — escalated from SMS',
      status: 'not_started',
      // An org key is nobody in the CRM: the task stays unassigned.
      assigneeEmail: null,
    });
    expect(task?.body).toContain('Asked about her lab results.');
    expect(task?.body).toContain('by test key');
    expect(task?.dueAt.toISOString().slice(0, 10)).toBe(new Date().toISOString().slice(0, 10));
    // A thread that turned sensitive goes to the review queue (#18 item 4); the note stays in the CRM.
    const [item] = await db.query<{ reason: string; actor: string }>(
      `SELECT reason, actor FROM review_items WHERE org_id = $1 AND kind = 'escalation' AND dedupe_key = $2`,
      [org.orgId, `escalation:sandbox:${activity.id}`],
    );
    expect(item).toEqual({
      reason: `call follow-up logged on sandbox contact ${DANA.id}`,
      actor: expect.stringMatching(/^api-key:/),
    });
  });

  it('logs an email task on a lead, assigned to the signed-in rep who escalated', async () => {
    const userId = randomUUID();
    await db.query(`INSERT INTO users (id, org_id, email, role) VALUES ($1, $2, 'rita@acme.test', 'rep')`, [
      userId,
      org.orgId,
    ]);
    sandbox.addUser('rita@acme.test');
    const session = await createSession(db, { orgId: org.orgId, userId, stage: 'full', now: clock() });
    const lead = { crm: 'sandbox', objectType: 'lead', id: 'l-2001' } as const;
    const response = await escalate(
      { ...lead, kind: 'email', note: 'Wants the contract by email.' },
      { authorization: `Bearer ${session.accessToken}` },
    );
    expect(response.statusCode, response.body).toBe(201);
    expect(sandbox.followUps(lead)).toMatchObject([
      {
        id: (response.json() as { activity: { id: string } }).activity.id,
        kind: 'email',
        subject: 'Email Sam Okafor — escalated from SMS',
        assigneeEmail: 'rita@acme.test',
      },
    ]);
    expect(sandbox.followUps(lead)[0]?.body).toContain('by rita@acme.test');
  });

  it.each([
    ['no note', { ...DANA, kind: 'call' }],
    ['an empty note', { ...DANA, kind: 'call', note: '' }],
    ['a note of spaces only', { ...DANA, kind: 'call', note: '   \n ' }],
    ['a note over 2,000 characters', { ...DANA, kind: 'call', note: 'x'.repeat(2001) }],
    ['an unknown kind', { ...DANA, kind: 'sms', note: 'hi' }],
    ['an unknown CRM', { ...DANA, crm: 'pipedrive', kind: 'call', note: 'hi' }],
    ['an unknown object type', { ...DANA, objectType: 'account', kind: 'call', note: 'hi' }],
    ['a record id with quotes', { ...DANA, id: "c-1001' OR '1'='1", kind: 'call', note: 'hi' }],
    ['an extra field', { ...DANA, kind: 'call', note: 'hi', assignee: 'boss@acme.test' }],
    ['a body that is not an object', ['c-1001']],
  ])('refuses %s with 400 in the error envelope and logs nothing', async (_name, payload) => {
    const before = sandbox.followUps(DANA).length;
    for (const prefix of ['', '/crm/sandbox']) {
      const response = await escalate(payload, org.auth, prefix);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json()).toMatchObject({
        error: { code: 'VALIDATION_FAILED', message: expect.any(String) },
      });
    }
    expect(sandbox.followUps(DANA)).toHaveLength(before);
  });

  it('refuses malformed JSON with 400 MALFORMED_JSON and logs nothing', async () => {
    const before = sandbox.followUps(DANA).length;
    const response = await app.inject({
      method: 'POST',
      url: `/crm/sandbox${ESCALATE}`,
      headers: { ...org.auth, 'content-type': 'application/json' },
      payload: '{"crm":"sandbox",',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'MALFORMED_JSON' } });
    expect(sandbox.followUps(DANA)).toHaveLength(before);
  });

  it('answers 401 without a key and 403 to a role that may not send, logging nothing', async () => {
    const before = sandbox.followUps(DANA).length;
    const payload = { ...DANA, kind: 'call', note: 'hi' };
    const anonymous = await escalate(payload, {});
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    const auditor = await createKeyForOrg(db, { orgId: org.orgId, role: 'auditor', name: 'auditor key' });
    const refused = await escalate(payload, { authorization: `Bearer ${auditor.key}` });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      error: { code: 'FORBIDDEN', details: { permission: 'messages.send' } },
    });
    expect(sandbox.followUps(DANA)).toHaveLength(before);
  });

  it('answers 404 CONTACT_NOT_FOUND for a record the CRM does not have', async () => {
    const response = await escalate({ ...DANA, id: 'c-9999', kind: 'call', note: 'hi' }, org.auth, '');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: { code: 'CONTACT_NOT_FOUND' } });
  });

  it('answers 409 CRM_NOT_CONNECTED for a CRM this relay has not connected', async () => {
    const response = await escalate(
      { crm: 'salesforce', objectType: 'contact', id: '0035g00000ABCDEAAA', kind: 'call', note: 'hi' },
      org.auth,
      '',
    );
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ error: { code: 'CRM_NOT_CONNECTED' } });
  });

  it('logs the task on the relay’s own sandbox CRM too (the route is registered)', async () => {
    const response = await escalate({ ...DANA, kind: 'email', note: 'Send the form.' }, org.auth, '');
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ activity: { kind: 'email', crm: 'sandbox' } });
  });
});

describe('POST /v1/contacts/escalate against HubSpot (real SDK, fake API)', () => {
  const payload = (note: string) => ({
    crm: 'hubspot',
    objectType: 'contact',
    id: hubspotContact,
    kind: 'call',
    note,
  });
  const onHubSpot = (body: unknown) => escalate(body, org.auth, '/crm/hubspot');

  it('creates an open CALL task associated with the contact', async () => {
    const response = await onHubSpot(payload('Disputes a charge; call him.'));
    expect(response.statusCode, response.body).toBe(201);
    const { activity } = response.json() as { activity: { id: string } };
    const task = hubspot.tasks().find((t) => t.id === activity.id);
    expect(task?.associations).toEqual([hubspotContact]);
    expect(task?.properties).toMatchObject({
      hs_task_type: 'CALL',
      hs_task_status: 'NOT_STARTED',
      hs_task_subject: 'Call back Hana Ito — escalated from SMS',
    });
    expect(task?.properties.hs_task_body).toContain('Disputes a charge; call him.');
  });

  it('answers 404 CONTACT_NOT_FOUND when HubSpot has no such contact', async () => {
    const before = hubspot.tasks().length;
    const response = await onHubSpot({ ...payload('hi'), id: '999999' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: { code: 'CONTACT_NOT_FOUND' } });
    expect(hubspot.tasks()).toHaveLength(before);
  });

  it('maps a 429 and an expired token to 502 CRM_UNAVAILABLE (with Retry-After when waiting helps), logging nothing', async () => {
    const before = hubspot.tasks().length;
    hubspot.injectFaults(
      [{ kind: 'rate_limit', policy: 'SECONDLY', retryAfterSeconds: 3 }],
      (method, path) => method === 'POST' && path === '/crm/v3/objects/tasks',
    );
    const throttled = await onHubSpot(payload('hi'));
    expect(throttled.statusCode).toBe(502);
    expect(throttled.headers['retry-after']).toBe('3');
    expect(throttled.json()).toMatchObject({
      error: {
        code: 'CRM_UNAVAILABLE',
        details: { crm: 'hubspot', crmError: 'rate_limited', retryable: true, retryAfterSeconds: 3 },
      },
    });

    hubspot.expireToken();
    try {
      const expired = await onHubSpot(payload('hi'));
      expect(expired.statusCode).toBe(502);
      expect(expired.headers['retry-after']).toBeUndefined();
      expect(expired.json()).toMatchObject({
        error: { code: 'CRM_UNAVAILABLE', details: { crmError: 'auth_expired', retryable: false } },
      });
      // The vendor's message (and the token) stay out of the answer.
      expect(expired.body).not.toContain(hubspot.accessToken);
      expect(expired.body).not.toContain('OAuth token');
    } finally {
      hubspot.renewToken();
    }
    expect(hubspot.tasks()).toHaveLength(before);
  });
});
