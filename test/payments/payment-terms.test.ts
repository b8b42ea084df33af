import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { seedOrg, signedInUser, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';

// The terms the panel's "Request payment" form offers: the org's own, to those who may ask.
postgresSkipNote('payment terms');

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db);
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const terms = (auth: Record<string, string>) =>
    relay.app.inject({ method: 'GET', url: '/v1/payment-requests/terms', headers: auth });

  it('answers the org’s currencies, link lifetime and cap, and another org’s own terms to it', async () => {
    const by = { actor: 'cli', at: relay.clock() };
    await relay.db.transaction(async (tx) => {
      await setOrgSetting(tx, org.orgId, 'payments.currencies', 'eur,usd', by);
      await setOrgSetting(tx, org.orgId, 'payments.linkDays', '3', by);
      await setOrgSetting(tx, org.orgId, 'payments.maxAmountMinor', '50000', by);
    });
    const ours = await terms(org.auth);
    expect(ours.statusCode, ours.body).toBe(200);
    expect(ours.json()).toEqual({
      businessName: 'Acme Plumbing',
      currencies: ['eur', 'usd'],
      linkDays: 3,
      maxLinkDays: 30,
      maxAmountMinor: 50000,
    });
    const theirs = await terms(other.auth);
    expect(theirs.json()).toMatchObject({ businessName: 'Other Org', currencies: ['usd'], linkDays: 7 });
  });

  it('refuses a role that may not ask for payments', async () => {
    const auditor = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'audit@acme.example',
      role: 'auditor',
      now: relay.clock(),
    });
    const refused = await terms(auditor.auth);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('FORBIDDEN');
  });
});
