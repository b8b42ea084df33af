import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCrm } from '../../server/crm-sync/connections.ts';
import { secretsKey } from '../../server/crypto/secrets.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { optIn, seedOrg, signedInUser, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';

// The inbox opens each row's CRM record (issue #19, item 1): the record's page from the org's own
// connection (its HubSpot portal, its Salesforce instance), and for a number with no record a
// place to find or create one, without the number when the caller sees it masked.
postgresSkipNote('inbox record links');

interface Row {
  contactPhone: string;
  contact: { name: string | null; recordUrl: string | null } | null;
  findInCrm: { crm: string; url: string } | null;
}
type Auth = { authorization: string };

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let hub: TestOrg;
  let force: TestOrg;
  let plain: TestOrg;
  let drop: () => Promise<void>;
  const key = secretsKey(randomBytes(32));

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db);
    hub = await seedOrg(relay.db, { name: 'Hub Org' });
    force = await seedOrg(relay.db, { name: 'Force Org', sender: '+12025550101' });
    plain = await seedOrg(relay.db, { name: 'Plain Org', sender: '+12025550102' });
    const by = { actor: 'test', at: relay.clock() };
    await connectCrm(relay.db, key, {
      orgId: hub.orgId,
      crm: 'hubspot',
      settings: { portalId: '62515' },
      secrets: { accessToken: 'x' },
      by,
    });
    await connectCrm(relay.db, key, {
      orgId: force.orgId,
      crm: 'salesforce',
      settings: { instanceUrl: 'https://acme.my.salesforce.com/' },
      secrets: { accessToken: 'x' },
      by,
    });
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  /** A conversation of `org` with `phone`, linked to a CRM record when one is given. */
  async function conversation(
    org: TestOrg,
    phone: string,
    record: { crm: string; objectType: string; id: string } | null,
  ): Promise<void> {
    await optIn(relay.app, org, phone);
    await relay.sandbox.textFromHandset({ handset: phone, service: org.sender, text: 'Hello?' });
    if (record === null) return;
    const contactId = randomUUID();
    await relay.db.query(
      `INSERT INTO contacts (id, org_id, phone_e164, display_name, crm, crm_object, crm_id) VALUES ($1, $2, $3, 'Pat', $4, $5, $6)`,
      [contactId, org.orgId, phoneToken(relay.db, phone), record.crm, record.objectType, record.id],
    );
    await relay.db.query(
      'UPDATE conversations SET contact_id = $1 WHERE org_id = $2 AND contact_phone = $3',
      [contactId, org.orgId, phoneToken(relay.db, phone)],
    );
  }

  const rows = async (auth: Auth): Promise<Row[]> => {
    const page = await relay.app.inject({ method: 'GET', url: '/v1/inbox?filter=all', headers: auth });
    expect(page.statusCode, page.body).toBe(200);
    return page.json().rows as Row[];
  };
  const byPhone = (list: Row[], last4: string) => list.find((r) => r.contactPhone.endsWith(last4));

  it('links a HubSpot record to its portal, and a stranger’s number to a search of the contact list', async () => {
    await conversation(hub, '+12025556001', { crm: 'hubspot', objectType: 'contact', id: '901' });
    await conversation(hub, '+12025556002', null);
    const list = await rows(hub.auth);
    expect(byPhone(list, '6001')?.contact?.recordUrl).toBe(
      'https://app.hubspot.com/contacts/62515/record/0-1/901',
    );
    expect(byPhone(list, '6001')?.findInCrm).toBeNull();
    expect(byPhone(list, '6002')?.findInCrm).toEqual({
      crm: 'hubspot',
      url: 'https://app.hubspot.com/contacts/62515/objects/0-1/views/all/list?query=%2B12025556002',
    });
  });

  it('links a Salesforce lead and contact on the org’s instance, and offers the new-contact form', async () => {
    await conversation(force, '+12025556003', {
      crm: 'salesforce',
      objectType: 'lead',
      id: '00Q000000000001',
    });
    await conversation(force, '+12025556004', null);
    const list = await rows(force.auth);
    expect(byPhone(list, '6003')?.contact?.recordUrl).toBe(
      'https://acme.my.salesforce.com/lightning/r/Lead/00Q000000000001/view',
    );
    expect(byPhone(list, '6004')?.findInCrm?.url).toBe(
      'https://acme.my.salesforce.com/lightning/o/Contact/new?defaultFieldValues=MobilePhone=%2B12025556004',
    );
  });

  it('never puts a masked number in a link, nor another org’s CRM, nor an id that is not an id', async () => {
    // An auditor sees numbers masked: the search link has none.
    const auditor = await signedInUser(relay.app, relay.db, {
      orgId: hub.orgId,
      email: 'audrey@hub.example',
      role: 'auditor',
      now: relay.clock(),
    });
    const masked = byPhone(await rows(auditor.auth), '6002');
    expect(masked?.contactPhone).not.toBe('+12025556002');
    expect(masked?.findInCrm?.url).toBe('https://app.hubspot.com/contacts/62515/objects/0-1/views/all/list');
    // A HubSpot record in the Salesforce org has no page there: no link is guessed.
    await conversation(force, '+12025556005', { crm: 'hubspot', objectType: 'contact', id: '77' });
    await conversation(force, '+12025556006', { crm: 'salesforce', objectType: 'contact', id: '../../evil' });
    const list = await rows(force.auth);
    expect(byPhone(list, '6005')?.contact?.recordUrl).toBeNull();
    expect(byPhone(list, '6006')?.contact?.recordUrl).toBeNull();
  });

  it('names a conversation as the CRM does once a rep opened the contact, links it, and finds it by name', async () => {
    const dana = { crm: 'sandbox', objectType: 'contact', id: 'c-1001' };
    const lookup = await relay.app.inject({
      method: 'GET',
      url: `/v1/contacts/lookup?crm=sandbox&objectType=contact&id=c-1001`,
      headers: plain.auth,
    });
    expect(lookup.statusCode, lookup.body).toBe(200);
    const phone = lookup.json().contact.phone as string;
    await optIn(relay.app, plain, phone);
    const sent = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...plain.auth, 'idempotency-key': 'inbox-links-dana' },
      payload: { from: plain.sender, contact: dana, body: 'Your crown is ready.' },
    });
    expect(sent.statusCode, sent.body).toBe(202);
    const found = await relay.app.inject({
      method: 'GET',
      url: '/v1/inbox?filter=all&q=Whitf',
      headers: plain.auth,
    });
    const [row] = found.json().rows as Row[];
    expect(row?.contact?.name).toBe('Dana Whitfield');
    expect(row?.contact?.recordUrl).toBe(
      `${relay.config.publicUrl.replace(/\/$/, '')}/sandbox/crm/contacts/c-1001`,
    );
  });
});
