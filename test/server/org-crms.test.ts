import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCrm } from '../../server/crm-sync/connections.ts';
import { secretsKey } from '../../server/crypto/secrets.ts';
import type { Database } from '../../server/db/database.ts';
import { HUBSPOT_APP } from '../crm-sync/setup.ts';
import { type HubSpotFake, startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { freshPglite } from '../helpers/db.ts';
import { seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';

/**
 * The panel's contact lookup, a send to a CRM record and an escalation use the calling org's own
 * CRM connection: the real HubSpot SDK against the fake, tokens sealed in the database.
 */
describe('per-org CRM connections on the request path', () => {
  let db: Database;
  let relay: TestRelay;
  let fake: HubSpotFake;
  let connected: TestOrg;
  let other: TestOrg;
  let contactId: string;
  const rawKey = randomBytes(32);

  beforeAll(async () => {
    db = await freshPglite();
    fake = await startHubSpotFake({ oauth: HUBSPOT_APP });
    relay = await testRelay(db, { config: { secretsKey: rawKey } });
    connected = await seedOrg(db, { name: 'Connected Co' });
    other = await seedOrg(db, { name: 'Other Co', sender: '+15550002222' });
    await connectCrm(db, secretsKey(rawKey), {
      orgId: connected.orgId,
      crm: 'hubspot',
      settings: { baseUrl: fake.baseUrl, clientId: HUBSPOT_APP.clientId },
      secrets: {
        accessToken: fake.accessToken,
        refreshToken: HUBSPOT_APP.refreshToken,
        clientSecret: HUBSPOT_APP.clientSecret,
      },
      by: { actor: 'cli', at: new Date() },
    });
    contactId = fake.addContact({
      firstname: 'Grace',
      lastname: 'Hopper',
      phone: '+12025550143',
      mobilephone: null,
    });
  });

  afterAll(async () => {
    await relay?.close();
    await fake?.close();
    await db?.close();
  });

  const lookup = (org: TestOrg) =>
    relay.app.inject({
      method: 'GET',
      url: `/v1/contacts/lookup?crm=hubspot&objectType=contact&id=${contactId}`,
      headers: org.auth,
    });

  it('finds the contact in the org’s own HubSpot', async () => {
    const response = await lookup(connected);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      contact: { crm: 'hubspot', id: contactId, name: 'Grace Hopper', phone: '+12025550143' },
    });
  });

  it('records the connection in the org’s audit log as crm.connected, and nothing in the other org', async () => {
    const entries = await db.query<{ org_id: string; actor: string; detail: unknown }>(
      `SELECT org_id, actor, detail FROM audit_log WHERE action = 'crm.connected'`,
    );
    expect(entries).toEqual([{ org_id: connected.orgId, actor: 'cli', detail: { crm: 'hubspot' } }]);
  });

  it('does not lend one org’s CRM to another', async () => {
    const response = await lookup(other);
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ error: { code: 'CRM_NOT_CONNECTED' } });
  });

  it('refreshes an expired access token once, stores it, and answers', async () => {
    fake.expireToken();
    const response = await lookup(connected);
    expect(response.statusCode).toBe(200);
    const rows = await db.query<{ updated_at: Date; created_at: Date }>(
      `SELECT updated_at, created_at FROM crm_connections WHERE org_id = $1`,
      [connected.orgId],
    );
    expect(rows[0]?.updated_at.getTime()).toBeGreaterThan(rows[0]?.created_at.getTime() ?? 0);
    // The refreshed plugin serves the next call without another refresh.
    expect((await lookup(connected)).statusCode).toBe(200);
  });

  it('escalates into the org’s HubSpot as a task on the contact', async () => {
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/contacts/escalate',
      headers: connected.auth,
      payload: {
        crm: 'hubspot',
        objectType: 'contact',
        id: contactId,
        kind: 'call',
        note: 'Wants a call back',
      },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ activity: { kind: 'call', crm: 'hubspot' } });
  });

  it('falls back to the installation’s sandbox CRM, whose record page lists the escalation', async () => {
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/contacts/escalate',
      headers: other.auth,
      payload: {
        crm: 'sandbox',
        objectType: 'contact',
        id: 'c-1001',
        kind: 'email',
        note: 'Send the <quote>',
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    const page = await relay.app.inject({ method: 'GET', url: '/sandbox/crm/contacts/c-1001' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-tasks="1"');
    expect(page.body).toContain('— escalated from SMS');
    // The rep's note is shown as text, never as markup.
    expect(page.body).toContain('Send the &#60;quote&#62;');
    expect(page.body).not.toContain('<quote>');
  });

  it('stops using a connection whose tokens were refused', async () => {
    await db.query(
      `UPDATE crm_connections SET status = 'auth_failed', updated_at = now() WHERE org_id = $1`,
      [connected.orgId],
    );
    // The connection list is reused for a few seconds; a new request after that sees the status.
    await new Promise((r) => setTimeout(r, 5_100));
    const response = await lookup(connected);
    expect(response.statusCode).toBe(409);
  });
});
