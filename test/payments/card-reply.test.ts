import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import { openBodies } from '../../server/stores/message-bodies.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { idemKey, optIn, seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';

// A customer who texts a card number gets the card warning; with payments.cardReplyLink on, the
// warning carries the link of the conversation's open request, so they can pay the safe way.
postgresSkipNote('card reply link');

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db);
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const PAN = '4111 1111 1111 1111';
  let next = 0;
  /** A customer of their own (the warning goes once a day per conversation), opted in. */
  async function customer(): Promise<string> {
    next += 1;
    const phone = `+120255501${String(70 + next).padStart(2, '0')}`;
    await optIn(relay.app, org, phone);
    return phone;
  }

  /** Asks `phone` for a payment; answers the request's id and the link its text carried. */
  async function ask(phone: string): Promise<{ id: string; link: string }> {
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/payment-requests',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: phone, amountMinor: 9_900, description: 'Boiler service' },
    });
    expect(response.statusCode, response.body).toBe(201);
    const { payment, message } = response.json() as { payment: { id: string }; message: { body: string } };
    const link = /https?:\/\/\S+\/p\/[A-Za-z0-9_-]{22}/.exec(message.body)?.[0];
    if (link === undefined) throw new Error(`no link in ${message.body}`);
    return { id: payment.id, link };
  }

  async function warningTo(phone: string): Promise<string | undefined> {
    const rows = await relay.db.query<{ id: string; org_id: string; body: string; body_key: number | null }>(
      `SELECT id, org_id, body, body_key FROM messages WHERE org_id = $1 AND to_e164 = $2 AND purpose = 'card_warning'`,
      [org.orgId, phoneToken(relay.db, phone)],
    );
    expect(rows.length).toBeLessThanOrEqual(1);
    return (await openBodies(relay.db, rows))[0]?.body;
  }

  const textCard = (phone: string) =>
    relay.sandbox.textFromHandset({ handset: phone, service: org.sender, text: `Here: ${PAN} exp 12/29` });

  const setLinkReply = (value: string | null) =>
    relay.db.transaction((tx) =>
      setOrgSetting(tx, org.orgId, 'payments.cardReplyLink', value, { actor: 'cli', at: relay.clock() }),
    );

  it('sends the plain warning while the org has not turned the link on', async () => {
    const phone = await customer();
    const { link } = await ask(phone);
    await textCard(phone);
    const warning = await warningTo(phone);
    expect(warning).toMatch(/card/i);
    expect(warning).not.toContain(link);
    expect(warning).not.toContain('/p/');
  });

  it('carries the open request’s own link once the org turns it on', async () => {
    await setLinkReply('on');
    const phone = await customer();
    const { link } = await ask(phone);
    await textCard(phone);
    expect(await warningTo(phone)).toMatch(
      new RegExp(`card.*Pay securely here: ${link.replace(/[.?]/g, '\\$&')}$`, 'is'),
    );
  });

  it('never offers a link that no longer takes payment, nor another customer’s', async () => {
    await setLinkReply('on');
    const canceledFor = await customer();
    const canceled = await ask(canceledFor);
    const cancel = await relay.app.inject({
      method: 'POST',
      url: `/v1/payment-requests/${canceled.id}/cancel`,
      headers: org.auth,
    });
    expect(cancel.statusCode, cancel.body).toBe(200);
    await textCard(canceledFor);
    expect(await warningTo(canceledFor)).not.toContain('/p/');

    const someoneElse = await customer();
    const theirs = await ask(someoneElse);
    const stranger = await customer();
    await textCard(stranger);
    const warning = await warningTo(stranger);
    expect(warning).toBeDefined();
    expect(warning).not.toContain(theirs.link);
    expect(warning).not.toContain('/p/');
  });

  it('refuses a setting that is not on or off and changes nothing', async () => {
    await setLinkReply('on');
    await expect(setLinkReply('yes please')).rejects.toMatchObject({ code: 'INVALID_SETTING' });
    const [row] = await relay.db.query<{ on: boolean }>(
      `SELECT (settings->'payments'->>'cardReplyLink')::boolean AS on FROM orgs WHERE id = $1`,
      [org.orgId],
    );
    expect(row?.on).toBe(true);
  });
});
