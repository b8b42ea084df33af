import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { seedOrg, signedInUser, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';

// Issue #17 (4): CRM sync status for the admin console, as `crm status` reports it, per org.
postgresSkipNote('CRM status route');

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let drop: () => Promise<void>;
  const connectionId = randomUUID();

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db);
    org = await seedOrg(relay.db, { name: 'Acme Dental' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    // A HubSpot connection the CRM cut off, one write waiting and one that failed for good.
    await relay.db.query(
      `INSERT INTO crm_connections (id, org_id, crm, secrets, status, status_detail, event_cursor_tx, event_cursor_id, consent_cursor_tx, consent_cursor_id)
       VALUES ($1, $2, 'hubspot', 'v1:00000000:AAAA', 'disconnected', 'token revoked in HubSpot', 0, 0, 0, 0)`,
      [connectionId, org.orgId],
    );
    await relay.db.query(
      `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject, state) VALUES ($1, $2, 'consent', '+12025550143', 'queued')`,
      [connectionId, org.orgId],
    );
    const [dead] = await relay.db.query<{ id: number }>(
      `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject, state) VALUES ($1, $2, 'message', 'm1', 'dead') RETURNING id`,
      [connectionId, org.orgId],
    );
    await relay.db.query(
      `INSERT INTO crm_dead_letters (id, org_id, connection_id, job_id, kind, subject, error_code, error_message, attempts)
       VALUES ($1, $2, $3, $4, 'message', 'm1', 'invalid_request', 'refused by the CRM', 8)`,
      [randomUUID(), org.orgId, connectionId, dead?.id],
    );
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const status = (auth: { authorization: string }) =>
    relay.app.inject({ method: 'GET', url: '/v1/admin/crm/status', headers: auth });

  it('reports each connection’s health, waiting jobs and dead letters', async () => {
    const answer = await status(org.auth);
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json().connections).toEqual([
      expect.objectContaining({
        connectionId,
        crm: 'hubspot',
        status: 'disconnected',
        statusDetail: 'token revoked in HubSpot',
        health: { ok: false, detail: 'disconnected' },
        queue: { 'consent.queued': 1 },
        queueDepth: 1,
        deadLetters: 1,
      }),
    ]);
    // Internal cursors and other orgs' ids stay on the relay.
    expect(answer.body).not.toContain('watermarks');
    expect(answer.body).not.toContain(org.orgId);
  });

  it('shows another org only its own connections, and refuses a rep', async () => {
    expect((await status(other.auth)).json()).toEqual({ connections: [] });
    const rep = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'rita@acme.test',
      role: 'rep',
      now: relay.clock(),
    });
    expect((await status(rep.auth)).statusCode).toBe(403);
  });
});
