import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mail, MailTransport } from '../../server/mail/transport.ts';
import { cliOn } from '../helpers/cli.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { setPaymentGuards } from '../helpers/payments.ts';
import {
  eventually,
  idemKey,
  optIn,
  seedOrg,
  steerableDaytimeClock,
  type TestOrg,
  type TestRelay,
  testRelay,
  testUser,
} from '../helpers/relay.ts';

// Issue #15 (6): "alerts and an automatic hold". Each new hold is mailed to the people of its org
// who may release it (payments.manage, built-in or custom role, active), never to the rep it holds
// nor to another org; once, and again later when the mail server refused. An operator at the relay
// lists and releases holds with the CLI the mail names.
postgresSkipNote('payment hold alerts');

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let drop: () => Promise<void>;
  const time = steerableDaytimeClock();
  let phoneSeq = 0;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db, { clock: time.clock });
    org = await seedOrg(relay.db, { name: 'Acme Plumbing', role: 'rep' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    const person = (orgId: string, email: string, role: string) =>
      testUser(relay.db, { orgId, email, role, now: relay.clock() });
    await relay.db.query(
      `INSERT INTO roles (id, org_id, name, permissions) VALUES (gen_random_uuid(), $1, 'treasurer', $2)`,
      [org.orgId, ['payments.manage', 'conversations.view']],
    );
    await person(org.orgId, 'rita@acme.example', 'rep');
    await person(org.orgId, 'mia@acme.example', 'manager');
    await person(org.orgId, 'tess@acme.example', 'treasurer');
    await person(org.orgId, 'cora@acme.example', 'compliance_reviewer');
    const gone = await person(org.orgId, 'gus@acme.example', 'manager');
    await relay.db.query(`UPDATE users SET status = 'deactivated' WHERE id = $1`, [gone]);
    await person(other.orgId, 'olga@other.example', 'manager');
    await setPaymentGuards(relay.db, org.orgId, { holdLinksPerNumberPerDay: '1' });
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  async function holdOnNewCustomer(): Promise<{ holdId: string; phone: string }> {
    phoneSeq += 1;
    return holdOn(relay, org, `+1202555${String(3000 + phoneSeq).padStart(4, '0')}`);
  }

  const mailsAbout = (holdId: string) =>
    relay.db.query<{ to_address: string; subject: string; body: string }>(
      'SELECT to_address, subject, body FROM sandbox_mail WHERE body LIKE $1 ORDER BY to_address',
      [`%${holdId}%`],
    );

  it('mails each active person who may release a new hold, once; never the rep, nor another org', async () => {
    const { holdId, phone } = await holdOnNewCustomer();
    // The hold woke the alerts; a pass of the relay's own may be the one that mails.
    await relay.payments?.drain();
    await eventually(async () => (await mailsAbout(holdId)).length >= 2);
    const mails = await mailsAbout(holdId);
    expect(mails.map((m) => m.to_address)).toEqual(['mia@acme.example', 'tess@acme.example']);
    const [mail] = mails;
    expect(mail?.subject).toBe("Payment hold at Acme Plumbing: a manager's look is needed");
    expect(mail?.body).toContain('One customer was sent several payment links within a day');
    expect(mail?.body).toContain(`Customer number: ending ${phone.slice(-4)}`);
    // The number stays out of a mailbox: its last four only.
    expect(mail?.body).not.toContain(phone);
    expect(mail?.body).toContain('Amount: $50.00 (USD)');
    expect(mail?.body).toContain(`/v1/payment-holds/${holdId}/release`);
    expect(mail?.body).toContain(`payments release --org ${org.orgId} --hold ${holdId}`);
    await relay.payments?.drain();
    expect(await mailsAbout(holdId)).toHaveLength(2);
  });

  it('lists and releases a hold from the CLI, on the record; a second release or another org’s id is refused', async () => {
    const { holdId } = await holdOnNewCustomer();
    const inRelay = { db: relay.db, config: relay.config };
    const listed = await cliOn(inRelay, 'payments', 'holds', '--org', org.orgId);
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out).toContain(holdId);
    expect(listed.out).toContain('repeat_number');
    const foreign = await cliOn(
      inRelay,
      'payments',
      'release',
      '--org',
      other.orgId,
      '--hold',
      holdId,
      '--json',
    );
    expect(JSON.parse(foreign.out).error.code).toBe('HOLD_NOT_FOUND');
    const bad = await cliOn(inRelay, 'payments', 'release', '--org', org.orgId, '--hold', 'nope', '--json');
    expect(JSON.parse(bad.out).error.code).toBe('INVALID_HOLD_ID');
    const released = await cliOn(
      inRelay,
      'payments',
      'release',
      '--org',
      org.orgId,
      '--hold',
      holdId,
      '--note',
      'Checked with the customer',
    );
    expect(released.code, released.err).toBe(0);
    const [audit] = await relay.db.query<{ actor: string; detail: { note: string } }>(
      `SELECT actor, detail FROM audit_log WHERE action = 'payment.hold_released' AND target_id = $1`,
      [holdId],
    );
    expect(audit).toMatchObject({ actor: 'cli', detail: { note: 'Checked with the customer' } });
    const again = await cliOn(inRelay, 'payments', 'release', '--org', org.orgId, '--hold', holdId, '--json');
    expect(JSON.parse(again.out).error).toMatchObject({ code: 'HOLD_ALREADY_RELEASED' });
    const open = await cliOn(inRelay, 'payments', 'holds', '--org', org.orgId, '--json');
    expect(JSON.parse(open.out).holds.map((h: { id: string }) => h.id)).not.toContain(holdId);
  });
});

describe.each(ENGINES)('when the mail server refuses, on %s', (engine) => {
  const refusing = new FlakyMail();
  let relay: TestRelay;
  let org: TestOrg;
  let drop: () => Promise<void>;
  const time = steerableDaytimeClock();

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db, { clock: time.clock, mail: refusing });
    org = await seedOrg(relay.db, { name: 'Acme Plumbing', role: 'rep' });
    await testUser(relay.db, {
      orgId: org.orgId,
      email: 'mia@acme.example',
      role: 'manager',
      now: time.clock(),
    });
    await setPaymentGuards(relay.db, org.orgId, { holdLinksPerNumberPerDay: '1' });
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  it('mails again once the claim has lapsed, and only then marks the hold alerted', async () => {
    refusing.refuse = true;
    const { holdId } = await holdOn(relay, org, '+12025554001');
    // The refusal raised the hold and woke the alerts; their first try is refused.
    await relay.payments?.drain();
    await eventually(async () => refusing.refused >= 1);
    expect(refusing.sent).toHaveLength(0);
    refusing.refuse = false;
    await relay.payments?.drain();
    expect(refusing.sent, 'a claim younger than five minutes is not taken again').toHaveLength(0);
    time.advance(6 * 60_000);
    await relay.payments?.drain();
    await eventually(async () => refusing.sent.length >= 1);
    expect(refusing.sent.map((m) => m.to)).toEqual(['mia@acme.example']);
    expect(refusing.sent[0]?.text).toContain(holdId);
    const [row] = await relay.db.query<{ alerted_at: Date | null }>(
      'SELECT alerted_at FROM payment_holds WHERE id = $1',
      [holdId],
    );
    expect(row?.alerted_at).not.toBeNull();
  });
});

/** A customer of `org` who opted in and texted in, asked for payment twice: the second is held. */
async function holdOn(
  relay: TestRelay,
  org: TestOrg,
  phone: string,
): Promise<{ holdId: string; phone: string }> {
  await optIn(relay.app, org, phone);
  await relay.sandbox.textFromHandset({ handset: phone, service: org.sender, text: 'Hi, can I pay?' });
  const ask = () =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/payment-requests',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: phone, amountMinor: 5_000, description: 'Invoice' },
    });
  expect((await ask()).statusCode).toBe(201);
  const held = await ask();
  expect(held.json().error?.code, held.body).toBe('PAYMENTS_ON_HOLD');
  return { holdId: held.json().error.details.holdId as string, phone };
}

/** A mail server that refuses while told to, and keeps what it took. */
class FlakyMail implements MailTransport {
  readonly name = 'flaky';
  refuse = false;
  refused = 0;
  readonly sent: Mail[] = [];
  async send(mail: Mail): Promise<void> {
    if (this.refuse) this.refused += 1;
    if (this.refuse) throw Object.assign(new Error('421 try again later'), { responseCode: 421 });
    this.sent.push(mail);
  }
  async close(): Promise<void> {}
}
