import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fallBackStaleOwnerRouting, OWNER_WAIT_MS } from '../../server/inbox/routing.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { type HubSpotFake, startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { type SalesforceFake, startSalesforceFake } from '../fakes/salesforce-fake.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { seedOrg, signedInUser, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';
import { connectAndInstall, testKey, testWorker } from './setup.ts';

// Issue #19 item 3: a customer's first text goes to the CRM contact's owner (HubSpot
// hubspot_owner_id, Salesforce OwnerId, matched to the org's users by email), else to the number's
// default assignee, else to the unassigned queue. The inbound transaction never calls the CRM: the
// text waits unassigned until the sync worker has asked, and falls back after two minutes.
postgresSkipNote('routing first texts to the CRM owner');

type Auth = { authorization: string };

describe.each(ENGINES)('routing to the CRM owner on %s', (engine) => {
  let relay: TestRelay;
  let drop: () => Promise<void>;
  let hubspot: HubSpotFake;
  let salesforce: SalesforceFake;
  /** On HubSpot: Rita and Ron are reps, Mia a manager. */
  let onHubSpot: TestOrg;
  /** On Salesforce: Sam is a rep. */
  let onSalesforce: TestOrg;
  /** A third org, no CRM: its rep has the email of a HubSpot owner who is not a user of onHubSpot. */
  let elsewhere: TestOrg;
  let rita: { userId: string; auth: Auth };
  let ron: { userId: string; auth: Auth };
  let mia: { userId: string; auth: Auth };
  let sam: { userId: string; auth: Auth };
  let worker: ReturnType<typeof testWorker>['worker'];
  let next = 0;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    const key = testKey();
    relay = await testRelay(database.db, { config: { secretsKey: key.bytes } });
    hubspot = await startHubSpotFake();
    salesforce = await startSalesforceFake();
    onHubSpot = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    onSalesforce = await seedOrg(relay.db, { name: 'Bolt Electric', sender: '+12025550101' });
    elsewhere = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550102' });
    const user = (orgId: string, email: string, role: string) =>
      signedInUser(relay.app, relay.db, { orgId, email, role, now: relay.clock() });
    rita = await user(onHubSpot.orgId, 'rita@acme.example', 'rep');
    ron = await user(onHubSpot.orgId, 'ron@acme.example', 'rep');
    mia = await user(onHubSpot.orgId, 'mia@acme.example', 'manager');
    sam = await user(onSalesforce.orgId, 'sam@bolt.example', 'rep');
    await user(elsewhere.orgId, 'olga@other.example', 'rep');
    await connectAndInstall(relay.db, key, {
      orgId: onHubSpot.orgId,
      crm: 'hubspot',
      settings: { baseUrl: hubspot.baseUrl },
      secrets: { accessToken: hubspot.accessToken },
    });
    await connectAndInstall(relay.db, key, {
      orgId: onSalesforce.orgId,
      crm: 'salesforce',
      settings: { instanceUrl: salesforce.instanceUrl },
      secrets: { accessToken: salesforce.accessToken },
    });
    worker = testWorker(relay.db, key).worker;
  });
  afterAll(async () => {
    await relay.close();
    await hubspot.close();
    await salesforce.close();
    await drop();
  });

  function phone(): string {
    next += 1;
    return `+120255531${String(next).padStart(2, '0')}`;
  }
  const text = (org: TestOrg, from: string, body: string) =>
    relay.sandbox.textFromHandset({ handset: from, service: org.sender, text: body });

  interface Routing {
    id: string;
    assignee: string | null;
    unreadFor: string[];
    waiting: boolean;
  }
  async function routingOf(org: TestOrg, from: string): Promise<Routing> {
    const [row] = await relay.db.query<{
      id: string;
      assignee: string | null;
      unread: string[] | null;
      waiting: boolean;
    }>(
      `SELECT c.id::text AS id, c.assigned_user_id::text AS assignee,
              (SELECT array_agg(u.user_id::text) FROM inbox_unread u WHERE u.conversation_id = c.id) AS unread,
              c.owner_lookup_since IS NOT NULL AND c.owner_routed_at IS NULL AS waiting
         FROM conversations c WHERE c.org_id = $1 AND c.contact_phone = $2`,
      [org.orgId, phoneToken(relay.db, from)],
    );
    if (row === undefined) throw new Error(`no conversation with ${from}`);
    return { id: row.id, assignee: row.assignee, unreadFor: row.unread ?? [], waiting: row.waiting };
  }
  async function noteOf(conversationId: string): Promise<string | null> {
    const [job] = await relay.db.query<{ note: string | null }>(
      `SELECT note FROM crm_sync_jobs WHERE kind = 'owner' AND subject = $1 ORDER BY id DESC LIMIT 1`,
      [conversationId],
    );
    return job?.note ?? null;
  }

  it('HubSpot: waits unassigned while the CRM is asked, then goes to the owner, unread for them', async () => {
    const owner = hubspot.addOwner({ email: 'Rita@Acme.example', firstName: 'Rita' });
    const from = phone();
    hubspot.addContact({ firstname: 'Dana', lastname: 'W', phone: from, hubspot_owner_id: owner });
    await text(onHubSpot, from, 'Hi, is my boiler service still on?');
    expect(await routingOf(onHubSpot, from)).toMatchObject({ assignee: null, unreadFor: [], waiting: true });

    await worker.drain();
    const routed = await routingOf(onHubSpot, from);
    expect(routed).toMatchObject({ assignee: rita.userId, unreadFor: [rita.userId], waiting: false });
    expect(await noteOf(routed.id)).toBe('owner found; owner');
    // Rita's inbox (and her notifications) hear of it: the change is on /v1/events.
    const events = await relay.db.query<{ payload: { assignee: { userId: string } | null } }>(
      `SELECT payload FROM events WHERE type = 'inbox.updated' AND conversation_id = $1 ORDER BY id`,
      [routed.id],
    );
    expect(events.at(-1)?.payload.assignee?.userId).toBe(rita.userId);

    // A later text follows the assignee and never asks the CRM for an owner again.
    await text(onHubSpot, from, 'Also, can you come earlier?');
    await worker.drain();
    const jobs = await relay.db.query(`SELECT 1 FROM crm_sync_jobs WHERE kind = 'owner' AND subject = $1`, [
      routed.id,
    ]);
    expect(jobs).toHaveLength(1);
    expect((await routingOf(onHubSpot, from)).assignee).toBe(rita.userId);
  });

  it('Salesforce: goes to the contact owner (OwnerId → User.Email)', async () => {
    const owner = salesforce.addRecord('User', { Email: 'sam@bolt.example', LastName: 'Ng', IsActive: true });
    const from = phone();
    salesforce.addRecord('Contact', { LastName: 'Whitfield', MobilePhone: from, OwnerId: owner });
    await text(onSalesforce, from, 'Hello?');
    expect((await routingOf(onSalesforce, from)).waiting).toBe(true);
    await worker.drain();
    expect(await routingOf(onSalesforce, from)).toMatchObject({
      assignee: sam.userId,
      unreadFor: [sam.userId],
    });
  });

  it('an owner who is not a user of the org falls back to the number’s default assignee, even one of another org', async () => {
    await relay.db.query(`UPDATE sender_numbers SET default_assignee_user_id = $2 WHERE org_id = $1`, [
      onHubSpot.orgId,
      ron.userId,
    ]);
    try {
      // Olga is a user, but of another org: her email must not route this org's customer to her.
      const owner = hubspot.addOwner({ email: 'olga@other.example' });
      const from = phone();
      hubspot.addContact({ firstname: 'Eve', phone: from, hubspot_owner_id: owner });
      await text(onHubSpot, from, 'Quote please');
      await worker.drain();
      const routed = await routingOf(onHubSpot, from);
      expect(routed).toMatchObject({ assignee: ron.userId, unreadFor: [ron.userId] });
      expect(await noteOf(routed.id)).toBe('the owner is not an active user here; fallback');

      // No record at all: the same fallback.
      const stranger = phone();
      await text(onHubSpot, stranger, 'Who is this?');
      await worker.drain();
      expect((await routingOf(onHubSpot, stranger)).assignee).toBe(ron.userId);
      expect(await noteOf((await routingOf(onHubSpot, stranger)).id)).toBe(
        'no CRM record with this number; fallback',
      );
    } finally {
      await relay.db.query(`UPDATE sender_numbers SET default_assignee_user_id = NULL WHERE org_id = $1`, [
        onHubSpot.orgId,
      ]);
    }
  });

  it('an assignment by hand while the CRM is asked wins', async () => {
    const owner = hubspot.addOwner({ email: 'rita@acme.example' });
    const from = phone();
    hubspot.addContact({ firstname: 'Finn', phone: from, hubspot_owner_id: owner });
    await text(onHubSpot, from, 'Can someone call me?');
    const { id } = await routingOf(onHubSpot, from);
    const assigned = await relay.app.inject({
      method: 'POST',
      url: `/v1/conversations/${id}/assign`,
      headers: mia.auth,
      payload: { userId: ron.userId },
    });
    expect(assigned.statusCode, assigned.body).toBe(200);
    await worker.drain();
    expect((await routingOf(onHubSpot, from)).assignee).toBe(ron.userId);
    expect(await noteOf(id)).toBe('owner found; already');
  });

  it('a job naming another org’s conversation routes nothing there', async () => {
    const from = phone();
    await text(elsewhere, from, 'Hi');
    const theirs = await routingOf(elsewhere, from);
    const [connection] = await relay.db.query<{ id: string }>(
      `SELECT id FROM crm_connections WHERE org_id = $1`,
      [onHubSpot.orgId],
    );
    await relay.db.query(
      `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject) VALUES ($1, $2, 'owner', $3)`,
      [connection?.id, onHubSpot.orgId, theirs.id],
    );
    await worker.drain();
    expect(await noteOf(theirs.id)).toBe('no such conversation in this organisation');
    expect(await routingOf(elsewhere, from)).toEqual(theirs);
  });
  it('a CRM that refuses the lookup falls back at once; one that throttles falls back after two minutes', async () => {
    const from = phone();
    hubspot.injectFaults([{ kind: 'server_error', status: 500 }], (_m, path) => path.endsWith('/search'));
    await text(onHubSpot, from, 'Anyone there?');
    await worker.drain();
    const failed = await routingOf(onHubSpot, from);
    expect(failed).toMatchObject({ assignee: null, waiting: false });
    expect(await noteOf(failed.id)).toMatch(/^owner lookup failed .*; fallback$/);

    const throttled = phone();
    hubspot.injectFaults([{ kind: 'rate_limit', policy: 'SECONDLY' }], (_m, path) =>
      path.endsWith('/search'),
    );
    await text(onHubSpot, throttled, 'Hello again');
    await worker.drain();
    expect((await routingOf(onHubSpot, throttled)).waiting).toBe(true);
    // The sweep of the sync worker, two minutes on by the relay's clock.
    expect(await fallBackStaleOwnerRouting(relay.db, new Date(relay.clock().getTime() + 1000))).toBe(0);
    const later = new Date(relay.clock().getTime() + OWNER_WAIT_MS + 1000);
    expect(await fallBackStaleOwnerRouting(relay.db, later)).toBe(1);
    expect((await routingOf(onHubSpot, throttled)).waiting).toBe(false);
  });
});
