import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnomalyNotices } from '../../server/anomalies/alert-notices.ts';
import { SandboxMailTransport } from '../../server/mail/transport.ts';
import { setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import { cliOn } from '../helpers/cli.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  seedOrg,
  steerableDaytimeClock,
  type TestOrg,
  type TestRelay,
  testRelay,
  testUser,
} from '../helpers/relay.ts';

// Issue #18 (6): "optional signed webhook to the customer's SIEM". Each anomaly alert is POSTed to
// the org's collector, signed like Stripe's events with a secret of that org only; a collector
// that fails is tried again later without mailing the admins twice; a URL that is not https (bar
// loopback) or carries credentials is refused.
postgresSkipNote('anomaly alert webhooks');

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let drop: () => Promise<void>;
  let server: Server;
  let url = '';
  const received: { signature: string; body: string }[] = [];
  let answer = 500;
  const time = steerableDaytimeClock();

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db, { clock: time.clock });
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    await testUser(relay.db, {
      orgId: org.orgId,
      email: 'ada@acme.example',
      role: 'admin',
      now: time.clock(),
    });
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        received.push({ signature: String(req.headers['crm-texting-signature'] ?? ''), body });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/siem`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await relay.close();
    await drop();
  });

  const by = () => ({ actor: 'test', at: time.clock() });
  /** An alert raised now (the detector's own flows: test/server/anomaly-alerts.test.ts). */
  const seedAlert = async (metric: string, observed: number): Promise<string> => {
    const id = randomUUID();
    await relay.db.query(
      `INSERT INTO anomaly_alerts (id, org_id, subject, metric, bucket_start, observed, expected, deviation, created_at)
       VALUES ($1, $2, 'org', $3, $4, $5, 2, 9.5, $4)`,
      [id, org.orgId, metric, time.clock(), observed],
    );
    return id;
  };
  const noticesNow = () =>
    new AnomalyNotices({
      db: relay.db,
      mail: new SandboxMailTransport(relay.db),
      publicUrl: relay.config.publicUrl,
      clock: time.clock,
      log: relay.app.log,
    });

  it('refuses a webhook URL that is not https (bar loopback) or carries credentials', async () => {
    for (const bad of [
      'http://siem.example.com/x',
      'ftp://siem.example.com/x',
      'https://u:p@siem.example.com',
      'nope',
    ])
      await expect(setOrgSetting(relay.db, org.orgId, 'anomaly.webhookUrl', bad, by())).rejects.toMatchObject(
        {
          code: 'INVALID_SETTING',
        },
      );
  });

  it('POSTs each alert signed with the org’s own secret, retries a failing collector, mails only once', async () => {
    await setOrgSetting(relay.db, org.orgId, 'anomaly.webhookUrl', url, by());
    const alertId = await seedAlert('opt_outs', 40);
    const notices = noticesNow();
    const mails = async () =>
      (await relay.db.query(`SELECT 1 FROM sandbox_mail WHERE body LIKE $1`, [`%${alertId}%`])).length;
    await notices.sendDue();
    expect(received).toHaveLength(1);
    expect(await mails()).toBe(1);
    await notices.sendDue();
    expect(received, 'a claim younger than five minutes is not taken again').toHaveLength(1);
    answer = 200;
    time.advance(6 * 60_000);
    await notices.sendDue();
    expect(received).toHaveLength(2);
    expect(await mails(), 'the mail went out the first time: not again').toBe(1);
    time.advance(6 * 60_000);
    await notices.sendDue();
    expect(received).toHaveLength(2);

    const { signature, body } = received[1] as { signature: string; body: string };
    expect(JSON.parse(body)).toMatchObject({
      type: 'anomaly.alert',
      org: { id: org.orgId },
      alert: { id: alertId, subject: 'org', metric: 'opt_outs', observed: 40 },
    });
    const secretOf = async (orgId: string) =>
      JSON.parse(
        (
          await cliOn(
            { db: relay.db, config: relay.config },
            'alerts',
            'webhook-secret',
            '--org',
            orgId,
            '--json',
          )
        ).out,
      ).secret as string;
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
    const sign = (secret: string) => createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(sign(await secretOf(org.orgId))).toBe(v1);
    // Another org's secret does not verify it: a collector shared by two orgs can tell them apart.
    expect(sign(await secretOf(other.orgId))).not.toBe(v1);
  });

  it('gives a collector that keeps failing up after a day', async () => {
    answer = 503;
    const alertId = await seedAlert('carrier_errors', 60);
    const notices = noticesNow();
    const notified = async () =>
      (
        await relay.db.query<{ notified_at: Date | null }>(
          'SELECT notified_at FROM anomaly_alerts WHERE id = $1',
          [alertId],
        )
      )[0]?.notified_at ?? null;
    await notices.sendDue();
    expect(await notified()).toBeNull();
    time.advance(25 * 3_600_000);
    await notices.sendDue();
    expect(await notified()).not.toBeNull();
  });
});
