import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  eventually,
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

// Issue #18 (5): the opt-in / opt-out report (JSON pages and CSV), message volume and delivery per
// rep and per number, and compliance incidents per day; each as an API, each within its org.
postgresSkipNote('reports');

type Auth = { authorization: string };

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let drop: () => Promise<void>;
  let rep: { userId: string; auth: Auth };
  let auditor: { auth: Auth };
  let period = '';
  const DELIVERED = '+12025550311';
  const BOUNCES = '+12025550199';

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db);
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    rep = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'rita@acme.example',
      role: 'rep',
      now: relay.clock(),
    });
    auditor = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'audrey@acme.example',
      role: 'auditor',
      now: relay.clock(),
    });
    const from = new Date(relay.clock().getTime() - 3_600_000);
    const to = new Date(relay.clock().getTime() + 86_400_000);
    period = `from=${from.toISOString()}&to=${to.toISOString()}`;

    for (const phone of [DELIVERED, BOUNCES]) {
      await optIn(relay.app, org, phone);
      const sent = await relay.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...rep.auth, 'idempotency-key': idemKey() },
        payload: { from: org.sender, to: phone, body: 'Your technician is on the way.' },
      });
      expect(sent.statusCode, sent.body).toBe(202);
    }
    // The outbox paces one long code, so the second text may leave a moment later: drain until
    // both have their delivery outcome.
    await eventually(async () => {
      await relay.worker.drain();
      const rows = await relay.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE org_id = $1 AND status IN ('delivered', 'undelivered')`,
        [org.orgId],
      );
      return rows[0]?.n === 2 ? true : undefined;
    }, 20_000);
    await relay.sandbox.textFromHandset({
      handset: DELIVERED,
      service: org.sender,
      text: 'Card 4111 1111 1111 1111',
    });
    await relay.sandbox.textFromHandset({ handset: BOUNCES, service: org.sender, text: 'STOP' });
    await optIn(relay.app, other, '+12025550999');
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const get = (auth: Auth, url: string) => relay.app.inject({ method: 'GET', url, headers: auth });

  it('lists the period’s consent changes with who recorded them, as JSON and as CSV', async () => {
    const json = await get(org.auth, `/v1/reports/consent?${period}`);
    expect(json.statusCode, json.body).toBe(200);
    const rows = json.json().rows as { phone: string; kind: string; source: string; actorName: string }[];
    expect(rows.map((r) => [r.phone, r.kind])).toEqual([
      [DELIVERED, 'opt_in'],
      [BOUNCES, 'opt_in'],
      [BOUNCES, 'opt_out'],
    ]);
    expect(rows[2]?.actorName).toBe('the customer');
    expect(json.json().nextAfter).toBeNull();

    const csv = await get(org.auth, `/v1/reports/consent?${period}&format=csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('occurredAt,phone,kind,source,evidence,actor,actorName');
    expect(lines).toHaveLength(4);
    expect(lines.join('\n')).not.toContain('+12025550999');
    const [audit] = await relay.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE org_id = $1 AND action = 'export.consent_report'`,
      [org.orgId],
    );
    expect(audit?.n).toBe(1);
  });

  it('masks numbers for a role without pii.view and refuses the CSV without export', async () => {
    const json = await get(auditor.auth, `/v1/reports/consent?${period}`);
    expect(json.statusCode, json.body).toBe(200);
    for (const row of json.json().rows as { phone: string }[])
      expect(row.phone).not.toMatch(/^\+1202555\d{4}$/);
    // A rep reads the report (consent.view) but may not take a copy away (no export).
    const csv = await get(rep.auth, `/v1/reports/consent?${period}&format=csv`);
    expect(csv.statusCode).toBe(403);
    expect(csv.json().error.code).toBe('FORBIDDEN');
    expect((await get(rep.auth, `/v1/reports/messages?${period}`)).statusCode).toBe(403);
  });

  it('counts texts and the delivery rate per rep and per number', async () => {
    const byRep = await get(org.auth, `/v1/reports/messages?${period}&by=rep`);
    expect(byRep.statusCode, byRep.body).toBe(200);
    const repRow = (byRep.json().rows as { key: string }[]).find((r) => r.key === rep.userId);
    expect(repRow).toMatchObject({
      name: 'rita@acme.example',
      outbound: 2,
      delivered: 1,
      failed: 1,
      deliveryRate: 0.5,
    });
    const byNumber = await get(org.auth, `/v1/reports/messages?${period}&by=number`);
    const numberRow = (byNumber.json().rows as { key: string; inbound: number; outbound: number }[]).find(
      (r) => r.key === org.sender,
    );
    expect(numberRow?.inbound).toBe(2);
    expect(numberRow?.outbound).toBeGreaterThanOrEqual(2);
    const theirs = await get(other.auth, `/v1/reports/messages?${period}&by=number`);
    expect((theirs.json().rows as { key: string }[]).map((r) => r.key)).not.toContain(org.sender);
  });

  it('counts compliance incidents per day', async () => {
    const answer = await get(org.auth, `/v1/reports/incidents?${period}`);
    expect(answer.statusCode, answer.body).toBe(200);
    const days = answer.json().days as { redactions: number; optOuts: number }[];
    const total = (k: 'redactions' | 'optOuts') => days.reduce((n, d) => n + d[k], 0);
    expect(total('redactions')).toBe(1);
    expect(total('optOuts')).toBe(1);
    expect((await get(rep.auth, `/v1/reports/incidents?${period}`)).statusCode).toBe(403);
  });

  it('lists every day of the period with texts, delivery and consent changes, and its CSV for export only', async () => {
    const answer = await get(org.auth, `/v1/reports/daily?${period}`);
    expect(answer.statusCode, answer.body).toBe(200);
    const days = answer.json().days as Record<string, number | string | null>[];
    // The period spans 25 hours: two or three UTC dates, each listed even when nothing happened.
    expect(days.length).toBeGreaterThanOrEqual(2);
    expect(days.map((d) => d.day)).toEqual([...days.map((d) => d.day)].sort());
    const total = (k: string) => days.reduce((n, d) => n + Number(d[k]), 0);
    expect(total('inbound')).toBe(2);
    expect(total('outbound')).toBeGreaterThanOrEqual(2);
    expect(total('failed')).toBe(1);
    expect(total('optIns')).toBe(2);
    expect(total('optOuts')).toBe(1);
    expect(days.some((d) => d.deliveryRate === null)).toBe(true);
    const theirs = await get(other.auth, `/v1/reports/daily?${period}`);
    expect((theirs.json().days as { inbound: number }[]).every((d) => d.inbound === 0)).toBe(true);

    const csv = await get(org.auth, `/v1/reports/daily?${period}&format=csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="daily-/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('day,outbound,inbound,delivered,failed,deliveryRate,optIns,optOuts');
    expect(lines).toHaveLength(days.length + 1);
    // A rep sees neither: the days are every rep's texts (conversations.view_all).
    expect((await get(rep.auth, `/v1/reports/daily?${period}`)).statusCode).toBe(403);
    const [audit] = await relay.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE org_id = $1 AND action = 'export.daily_report'`,
      [org.orgId],
    );
    expect(audit?.n).toBe(1);
  });

  it('refuses an empty, reversed or too long period and a bad instant', async () => {
    const now = relay.clock();
    const at = (days: number) => new Date(now.getTime() + days * 86_400_000).toISOString();
    for (const query of [
      `from=${at(0)}&to=${at(0)}`,
      `from=${at(1)}&to=${at(0)}`,
      `from=${at(-400)}&to=${at(0)}`,
    ]) {
      const answer = await get(org.auth, `/v1/reports/incidents?${query}`);
      expect(answer.statusCode).toBe(400);
      expect(answer.json().error.code).toBe('INVALID_PERIOD');
    }
    const bad = await get(org.auth, '/v1/reports/incidents?from=yesterday&to=today');
    expect(bad.statusCode).toBe(400);
  });
});
