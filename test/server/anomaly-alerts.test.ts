import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnomalyNotices } from '../../server/anomalies/alert-notices.ts';
import { BUCKET_MS, judgeClosedHours, WARMUP_BUCKETS } from '../../server/anomalies/detector.ts';
import { SandboxMailTransport } from '../../server/mail/transport.ts';
import { setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import { insertOutbound } from '../../server/stores/messages.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  steerableDaytimeClock,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

// Issue #18 (6): anomaly alerts. A rep's usual hours build a baseline; an injected spike raises
// exactly one alert (the rep's: the org's own count is explained by it), none again while it is
// open; with anomaly.pauseRep the rep's sends are refused until an admin resolves it. Another
// org's admin neither sees nor resolves it; a rep may not list alerts.
postgresSkipNote('anomaly alerts');

type Auth = { authorization: string };
const CUSTOMERS = Array.from({ length: 10 }, (_, i) => `+1202555${String(7000 + i)}`);

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let drop: () => Promise<void>;
  let rita: { userId: string; auth: Auth };
  let ada: { userId: string; auth: Auth };
  let olga: { userId: string; auth: Auth };
  let senderId = '';
  const time = steerableDaytimeClock();
  // Twenty hours ago, on the hour: the history is laid down hour by hour from there.
  const firstHour = Math.floor(time.clock().getTime() / BUCKET_MS) * BUCKET_MS - 20 * BUCKET_MS;
  const judgeAfter = (hour: number) =>
    judgeClosedHours(relay.db, new Date(firstHour + (hour + 1) * BUCKET_MS + 6 * 60_000));

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db, { clock: time.clock });
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    const user = (orgId: string, email: string, role: string) =>
      signedInUser(relay.app, relay.db, { orgId, email, role, now: relay.clock() });
    rita = await user(org.orgId, 'rita@acme.example', 'rep');
    ada = await user(org.orgId, 'ada@acme.example', 'admin');
    olga = await user(other.orgId, 'olga@other.example', 'admin');
    const [sender] = await relay.db.query<{ id: string }>('SELECT id FROM sender_numbers WHERE org_id = $1', [
      org.orgId,
    ]);
    senderId = sender?.id ?? '';
    for (const phone of CUSTOMERS) await optIn(relay.app, org, phone);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  /** `count` texts from Rita in `hour` (0 = the first of the history), to her usual customers. */
  async function ritaSent(hour: number, count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      await insertOutbound(relay.db, {
        orgId: org.orgId,
        senderNumberId: senderId,
        from: org.sender,
        to: CUSTOMERS[i % CUSTOMERS.length] as string,
        body: `Reminder ${hour}-${i}`,
        purpose: 'conversation',
        sentByUserId: rita.userId,
        provider: 'sandbox',
        now: new Date(firstHour + hour * BUCKET_MS + (i + 1) * 1000),
      });
    }
  }

  const alerts = async (auth: Auth, state = 'all') =>
    relay.app.inject({ method: 'GET', url: `/v1/alerts?state=${state}`, headers: auth });

  it('learns a rep’s usual hours, then raises exactly one alert for a spike, and pauses her sends', async () => {
    const by = { actor: 'test', at: relay.clock() };
    await expect(setOrgSetting(relay.db, org.orgId, 'anomaly.threshold', '1', by)).rejects.toMatchObject({
      code: 'INVALID_SETTING',
    });
    await setOrgSetting(relay.db, org.orgId, 'anomaly.pauseRep', 'on', by);
    const usual = [8, 11, 9, 12, 10, 9, 11, 10, 8, 12, 10, 11, 9, 10];
    expect(usual.length).toBeGreaterThanOrEqual(WARMUP_BUCKETS);
    for (const [hour, count] of usual.entries()) {
      await ritaSent(hour, count);
      expect(await judgeAfter(hour)).toEqual([]);
    }
    const spikeHour = usual.length;
    await ritaSent(spikeHour, 90);
    const raised = await judgeAfter(spikeHour);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      subject: `user:${rita.userId}`,
      metric: 'outbound',
      observed: 90,
      paused: true,
    });
    // Judged once: the same hour again raises nothing, nor does a second spike while it is open.
    expect(await judgeAfter(spikeHour)).toEqual([]);
    await ritaSent(spikeHour + 1, 90);
    expect(await judgeAfter(spikeHour + 1)).toEqual([]);

    const listed = await alerts(ada.auth, 'open');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().alerts).toMatchObject([
      { subject: 'rep', rep: { userId: rita.userId }, metric: 'outbound', observed: 90, paused: true },
    ]);
    const send = () =>
      relay.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...rita.auth, 'idempotency-key': idemKey() },
        payload: { from: org.sender, to: CUSTOMERS[0], body: 'Hello again' },
      });
    const refused = await send();
    expect(refused.statusCode, refused.body).toBe(423);
    expect(refused.json().error.code).toBe('SENDING_PAUSED');

    // The org's admins are mailed about it, once; the rep is not.
    const notices = new AnomalyNotices({
      db: relay.db,
      mail: new SandboxMailTransport(relay.db),
      publicUrl: relay.config.publicUrl,
      clock: time.clock,
      log: relay.app.log,
    });
    await notices.sendDue();
    await notices.sendDue();
    const mails = await relay.db.query<{ to_address: string; subject: string; body: string }>(
      `SELECT to_address, subject, body FROM sandbox_mail WHERE subject LIKE 'Unusual sending%'`,
    );
    expect(mails.map((m) => m.to_address)).toEqual(['ada@acme.example']);
    expect(mails[0]?.body).toContain('90 texts sent in the hour');
    expect(mails[0]?.body).toContain('Their sending is paused until you resolve the alert.');
  });

  it('lets only the org’s admin see and resolve it; resolving resumes the rep’s sending', async () => {
    const [open] = (await alerts(ada.auth, 'open')).json().alerts as { id: string }[];
    expect(open).toBeDefined();
    expect((await alerts(rita.auth)).statusCode).toBe(403);
    expect((await alerts(olga.auth)).json().alerts).toEqual([]);
    const resolve = (auth: Auth) =>
      relay.app.inject({
        method: 'POST',
        url: `/v1/alerts/${open?.id}/resolve`,
        headers: auth,
        payload: { note: 'A planned campaign; told Rita to use the bulk tool next time.' },
      });
    expect((await resolve(olga.auth)).json().error.code).toBe('ALERT_NOT_FOUND');
    const done = await resolve(ada.auth);
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().alert).toMatchObject({ resolvedBy: `user:${ada.userId}` });
    expect((await resolve(ada.auth)).json().error.code).toBe('ALERT_ALREADY_RESOLVED');
    const sent = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...rita.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: CUSTOMERS[1], body: 'Hello again' },
    });
    expect(sent.statusCode, sent.body).toBe(202);
    const [audit] = await relay.db.query<{ actor: string }>(
      `SELECT actor FROM audit_log WHERE action = 'anomaly.alert_resolved' AND target_id = $1`,
      [open?.id],
    );
    expect(audit?.actor).toBe(`user:${ada.userId}`);
  });
});
