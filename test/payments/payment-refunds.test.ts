import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { MANY_LINKS, setPaymentGuards } from '../helpers/payments.ts';
import {
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

// Issue #15 (6, 8): refunds (permission payments.refund, once per Idempotency-Key, never more than
// was paid), the org's requests by status and rep one page at a time, and card testing: more failed
// card attempts on one link than the org allows holds the link until a manager releases it.
postgresSkipNote('payment refunds');

type Auth = { authorization: string };

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let drop: () => Promise<void>;
  let rita: { userId: string; auth: Auth };
  let rob: { userId: string; auth: Auth };
  let mia: { userId: string; auth: Auth };
  let phoneSeq = 0;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db);
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    await setPaymentGuards(relay.db, org.orgId, MANY_LINKS);
    const person = (email: string, role: string) =>
      signedInUser(relay.app, relay.db, { orgId: org.orgId, email, role, now: relay.clock() });
    rita = await person('rita@acme.example', 'rep');
    rob = await person('rob@acme.example', 'rep');
    mia = await person('mia@acme.example', 'manager');
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  async function customer(): Promise<string> {
    phoneSeq += 1;
    const phone = `+1202555${String(3000 + phoneSeq).padStart(4, '0')}`;
    await optIn(relay.app, org, phone);
    await relay.sandbox.textFromHandset({ handset: phone, service: org.sender, text: 'Send me the bill' });
    return phone;
  }

  async function requested(auth: Auth, amountMinor = 10_000): Promise<{ id: string; token: string }> {
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/payment-requests',
      headers: { ...auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: await customer(), amountMinor, description: 'Boiler service' },
    });
    expect(response.statusCode, response.body).toBe(201);
    const token = /\/p\/([A-Za-z0-9_-]{22})\b/.exec(response.json().message.body)?.[1] as string;
    return { id: response.json().payment.id, token };
  }

  const checkoutOf = async (token: string): Promise<string> => {
    const pay = await relay.app.inject({
      method: 'POST',
      url: `/p/${token}/pay`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    expect(pay.statusCode, pay.body).toBe(303);
    return String(pay.headers.location).split('/').pop() as string;
  };

  const customerDoes = (checkoutId: string, action: 'pay' | 'decline') =>
    relay.app.inject({
      method: 'POST',
      url: `/sandbox/checkout/${checkoutId}`,
      headers: {
        origin: 'http://127.0.0.1:8787',
        host: '127.0.0.1:8787',
        'content-type': 'application/json',
      },
      payload: JSON.stringify({ action }),
    });

  async function paid(auth: Auth, amountMinor = 10_000): Promise<string> {
    const { id, token } = await requested(auth, amountMinor);
    expect((await customerDoes(await checkoutOf(token), 'pay')).statusCode).toBe(200);
    return id;
  }

  const refund = (auth: Auth, id: string, payload: object = {}, key = idemKey()) =>
    relay.app.inject({
      method: 'POST',
      url: `/v1/payment-requests/${id}/refund`,
      headers: { ...auth, 'idempotency-key': key },
      payload,
    });

  it('refunds part, then the rest, once per key, never more than was paid, and records who', async () => {
    const id = await paid(rita.auth);
    const key = idemKey();
    const part = await refund(
      mia.auth,
      id,
      { amountMinor: 4_000, reason: 'Part of the job was not done' },
      key,
    );
    expect(part.statusCode, part.body).toBe(200);
    expect(part.json().payment).toMatchObject({ status: 'partially_refunded', refundedMinor: 4_000 });
    // A retry under the same key is the same refund, not a second one.
    const retry = await refund(
      mia.auth,
      id,
      { amountMinor: 4_000, reason: 'Part of the job was not done' },
      key,
    );
    expect(retry.json().payment.refundedMinor).toBe(4_000);
    const tooMuch = await refund(mia.auth, id, { amountMinor: 6_001 });
    expect(tooMuch.statusCode).toBe(422);
    expect(tooMuch.json().error).toMatchObject({ code: 'REFUND_TOO_LARGE', details: { leftMinor: 6_000 } });
    const rest = await refund(mia.auth, id);
    expect(rest.json().payment).toMatchObject({ status: 'refunded', refundedMinor: 10_000 });
    expect((await refund(mia.auth, id)).json().error.code).toBe('PAYMENT_NOT_REFUNDABLE');
    const audit = await relay.db.query<{
      actor: string;
      detail: { amountMinor: number; reason: string | null };
    }>(
      `SELECT actor, detail FROM audit_log WHERE org_id = $1 AND action = 'payment.refunded' AND target_id = $2 ORDER BY seq`,
      [org.orgId, id],
    );
    expect(audit.map((a) => a.detail.amountMinor)).toEqual([4_000, 6_000]);
    expect(audit[0]?.detail.reason).toBe('Part of the job was not done');
    expect(audit[0]?.actor).toContain(mia.userId);
  });

  it('refuses a refund to a rep without payments.refund, of an unpaid request, and of another org’s', async () => {
    const id = await paid(rita.auth);
    const byRep = await refund(rita.auth, id);
    expect(byRep.statusCode).toBe(403);
    const unpaid = await requested(rita.auth);
    expect((await refund(mia.auth, unpaid.id)).json().error.code).toBe('PAYMENT_NOT_REFUNDABLE');
    const foreign = await refund(other.auth, id);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('PAYMENT_NOT_FOUND');
  });

  it('lists the org’s requests newest first by status and rep, one page at a time; a rep sees their own', async () => {
    const robs = [await requested(rob.auth), await requested(rob.auth), await requested(rob.auth)];
    const list = (auth: Auth, query: string) =>
      relay.app.inject({ method: 'GET', url: `/v1/payment-requests?${query}`, headers: auth });
    const first = await list(mia.auth, `rep=${rob.userId}&status=sent&limit=2`);
    expect(first.statusCode, first.body).toBe(200);
    const page1 = first.json() as { payments: { id: string }[]; nextCursor: string };
    expect(page1.payments.map((p) => p.id)).toEqual([robs[2]?.id, robs[1]?.id]);
    const second = await list(mia.auth, `rep=${rob.userId}&status=sent&limit=2&cursor=${page1.nextCursor}`);
    expect(second.json()).toMatchObject({ payments: [{ id: robs[0]?.id }], nextCursor: null });
    // Rita, a rep, sees none of Rob's requests, whatever she asks for.
    const ritas = await list(rita.auth, `rep=${rob.userId}`);
    expect(ritas.json().payments).toEqual([]);
    const own = await list(rita.auth, 'status=paid');
    expect(own.json().payments.length).toBeGreaterThan(0);
    expect((await list(mia.auth, 'cursor=not-a-cursor')).json().error.code).toBe('INVALID_CURSOR');
    expect((await list(other.auth, '')).json().payments).toEqual([]);
  });

  it('holds a link after more failed card attempts than the org allows, until a manager releases it', async () => {
    await setPaymentGuards(relay.db, org.orgId, { holdFailedAttempts: '3' });
    const { id, token } = await requested(rita.auth);
    const checkout = await checkoutOf(token);
    for (let i = 0; i < 3; i += 1) expect((await customerDoes(checkout, 'decline')).statusCode).toBe(200);
    // Three declines are a customer with a bad card; the link still takes payment.
    expect(await checkoutOf(token)).toBe(checkout);
    expect((await customerDoes(checkout, 'decline')).statusCode).toBe(200);
    const holds = await relay.app.inject({ method: 'GET', url: '/v1/payment-holds', headers: mia.auth });
    const hold = (holds.json().holds as { id: string; reason: string; requestId: string }[]).find(
      (h) => h.requestId === id,
    );
    expect(hold?.reason).toBe('card_testing');
    // The open checkout was closed and no new one is made; the page says why.
    const page = await relay.app.inject({ method: 'GET', url: `/p/${token}` });
    expect(page.body).toContain('data-state="held"');
    const pay = await relay.app.inject({
      method: 'POST',
      url: `/p/${token}/pay`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    expect(pay.statusCode).toBe(200);
    expect(pay.body).toContain('data-state="held"');
    const [sandbox] = await relay.db.query<{ status: string }>(
      'SELECT status FROM sandbox_checkouts WHERE id = $1',
      [checkout],
    );
    expect(sandbox?.status).toBe('expired');
    const released = await relay.app.inject({
      method: 'POST',
      url: `/v1/payment-holds/${hold?.id}/release`,
      headers: mia.auth,
      payload: { note: 'The customer called; new card.' },
    });
    expect(released.statusCode, released.body).toBe(200);
    // Counting starts again after the release: the customer's next decline does not hold it again.
    const fresh = await checkoutOf(token);
    expect((await customerDoes(fresh, 'decline')).statusCode).toBe(200);
    expect(await checkoutOf(token)).toBe(fresh);
    expect((await customerDoes(fresh, 'pay')).statusCode).toBe(200);
  });

  it('reports requests per rep and status, as JSON or CSV (export, audited), for managers only', async () => {
    const from = new Date(relay.clock().getTime() - 3_600_000).toISOString();
    const to = new Date(relay.clock().getTime() + 3_600_000).toISOString();
    const report = (auth: Auth, format = 'json') =>
      relay.app.inject({
        method: 'GET',
        url: `/v1/reports/payments?from=${from}&to=${to}&format=${format}`,
        headers: auth,
      });
    expect((await report(rita.auth)).statusCode).toBe(403);
    const json = await report(mia.auth);
    expect(json.statusCode, json.body).toBe(200);
    const rows = json.json().rows as {
      repUserId: string;
      status: string;
      paidMinor: number;
      refundedMinor: number;
    }[];
    const ritaRefunded = rows.find((r) => r.repUserId === rita.userId && r.status === 'refunded');
    expect(ritaRefunded).toMatchObject({ paidMinor: 10_000, refundedMinor: 10_000 });
    expect(rows.some((r) => r.repUserId === rob.userId && r.status === 'sent')).toBe(true);
    const csv = await report(mia.auth, 'csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.body.split('\r\n')[0]).toBe(
      'repUserId,repName,status,currency,requests,amountMinor,paidMinor,refundedMinor',
    );
    const [audit] = await relay.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE org_id = $1 AND action = 'export.payment_report'`,
      [org.orgId],
    );
    expect(audit?.n).toBe(1);
    expect((await report(other.auth)).json()).toEqual({ rows: [] });
  });
});
