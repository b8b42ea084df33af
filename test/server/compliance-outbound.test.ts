import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { OutboxWorker } from '../../server/workers/outbox-worker.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  CUSTOMER,
  daytimeClock,
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

postgresSkipNote('compliance outbound');

describe.each(ENGINES)('on %s', (engine) => {
  let drop: () => Promise<void>;

  // The compliance clock: real time shifted to midday unless a test pins it.
  const daytime = daytimeClock();
  let pinned: Date | null = null;
  const clock = () => pinned ?? daytime();

  let relay: TestRelay;

  /** A worker without the per-number pacing, so draining what earlier tests queued is quick. */
  const fastWorker = () =>
    new OutboxWorker({
      db,
      clock: daytimeClock(),
      provider: relay.sandbox,
      log: () => undefined,
      sendRates: { long_code: 10_000, toll_free: 10_000, short_code: 10_000 },
      accountRequestsPer5s: 100_000,
    });
  let db: Database;
  let org: TestOrg;

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    relay = await testRelay(db, { clock });
    org = await seedOrg(db);
    await optIn(relay.app, org, CUSTOMER);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  interface Refusal {
    code: string;
    message: string;
    details: Record<string, unknown>;
  }

  const send = (payload: Record<string, unknown>, key = idemKey()) =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': key },
      payload: { from: org.sender, ...payload },
    });

  const preflight = (payload: Record<string, unknown>) =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/messages/preflight',
      headers: org.auth,
      payload: { from: org.sender, ...payload },
    });

  const refusalCodes = (response: { json(): unknown }) =>
    (response.json() as { error: { details: { refusals: Refusal[] } } }).error.details.refusals.map(
      (r) => r.code,
    );

  let phoneCounter = 0;
  /** A fresh opted-in number in Washington DC (federal quiet hours only, no frequency cap). */
  async function freshPhone(areaCode = '202'): Promise<string> {
    phoneCounter += 1;
    const phone = `+1${areaCode}555${String(2000 + phoneCounter).padStart(4, '0')}`;
    await optIn(relay.app, org, phone);
    return phone;
  }

  async function setSettings(settings: Record<string, unknown>): Promise<void> {
    await db.query('UPDATE orgs SET settings = $2 WHERE id = $1', [org.orgId, JSON.stringify(settings)]);
  }

  describe('first-contact notice', () => {
    it('identifies the org and says how to opt out on the first text of a conversation only', async () => {
      const phone = await freshPhone();
      const first = await send({ to: phone, body: 'Your crown is ready for pickup.' });
      expect(first.statusCode).toBe(202);
      expect(first.json().message.body).toBe(
        'Acme Dental: Your crown is ready for pickup. Reply STOP to opt out.',
      );
      const second = await send({ to: phone, body: 'We are open until 5.' });
      expect(second.json().message.body).toBe('We are open until 5.');
    });

    it('introduces the org again after the configured days of silence, using its identification name', async () => {
      await setSettings({ identificationName: 'Acme Smiles', reintroduceAfterDays: 7 });
      try {
        const phone = await freshPhone();
        await send({ to: phone, body: 'Hello there.' });
        await db.query(
          `UPDATE conversations SET last_message_at = now() - interval '8 days' WHERE org_id = $1 AND contact_phone = $2`,
          [org.orgId, phoneToken(db, phone)],
        );
        const later = await send({ to: phone, body: 'Time for your cleaning.' });
        expect(later.json().message.body).toBe('Acme Smiles: Time for your cleaning. Reply STOP to opt out.');
        const next = await send({ to: phone, body: 'Reply with a good day.' });
        expect(next.json().message.body).toBe('Reply with a good day.');
      } finally {
        await setSettings({});
      }
    });

    it('does not repeat what the text already says', async () => {
      const phone = await freshPhone();
      const response = await send({
        to: phone,
        body: 'Acme Dental here: see you at 3. Reply STOP to opt out.',
      });
      expect(response.json().message.body).toBe('Acme Dental here: see you at 3. Reply STOP to opt out.');
    });
  });

  describe('refusals', () => {
    it('answers a refused send with the first refusal code and every refusal in details', async () => {
      const response = await send({ to: '+12025559001', body: 'Card 4111 1111 1111 1111 on file' });
      expect(response.statusCode).toBe(422);
      const { error } = response.json();
      expect(error.code).toBe('NO_CONSENT');
      expect(refusalCodes(response)).toEqual(['NO_CONSENT', 'SENSITIVE_CONTENT']);
      const sensitive = error.details.refusals[1] as Refusal;
      expect(sensitive.details.findings).toEqual([
        expect.objectContaining({ kind: 'card', start: 5, end: 24 }),
      ]);
    });

    it('refuses card, SSN and bank numbers in an outbound text with SENSITIVE_CONTENT and stores nothing', async () => {
      const before = await db.query('SELECT count(*)::int AS n FROM messages');
      for (const body of [
        'Your card 4111 1111 1111 1111 was charged',
        'We have your SSN 123-45-6789 on file',
        'Routing 021000021 account 123456789012',
      ]) {
        const response = await send({ to: CUSTOMER, body });
        expect(response.statusCode, body).toBe(422);
        expect(response.json().error.code, body).toBe('SENSITIVE_CONTENT');
      }
      expect(await db.query('SELECT count(*)::int AS n FROM messages')).toEqual(before);
    });

    // #13 finding 4: each of these was delivered before the scanner normalised its input.
    it.each([
      ['full-width digits', 'Your card ４１１１ １１１１ １１１１ １１１１ was charged', 'card'],
      ['underscores', 'Card 4111_1111_1111_1111 on file', 'card'],
      ['zero-width spaces', 'Card 4111\u200b1111\u200b1111\u200b1111 on file', 'card'],
      ['Arabic-Indic digits', 'Card ٤١١١ ١١١١ ١١١١ ١١١١ on file', 'card'],
      ['a newline inside', 'Card 41111111\n11111111 on file', 'card'],
      ['full-width SSN digits', 'We have your SSN ４５５-２３-１１８７ on file', 'ssn'],
      ['an SSN written with spaces', 'It is 455 23 1187, right?', 'ssn'],
      ['an account number after its label', 'Your checking account number is 12345678', 'bank'],
    ])(
      'refuses a number written with %s on send and preflight, and stores nothing',
      async (_, body, kind) => {
        const before = await db.query('SELECT count(*)::int AS n FROM messages');
        const checked = await preflight({ to: CUSTOMER, body });
        expect(checked.statusCode).toBe(200);
        expect(checked.json().allowed).toBe(false);
        const refusal = (checked.json().refusals as Refusal[]).find((r) => r.code === 'SENSITIVE_CONTENT');
        const findings = refusal?.details.findings as { kind: string; start: number; end: number }[];
        expect(findings.map((f) => f.kind)).toContain(kind);
        // The offsets point into the text as the rep typed it, so the panel can highlight it.
        const spans = findings.map((f) => body.slice(f.start, f.end));
        expect(spans.join('|')).toMatch(/^[^a-z]*$/i);
        const response = await send({ to: CUSTOMER, body });
        expect(response.statusCode).toBe(422);
        expect(response.json().error.code).toBe('SENSITIVE_CONTENT');
        expect(await db.query('SELECT count(*)::int AS n FROM messages')).toEqual(before);
      },
    );

    it('refuses health information unless the org allows PHI', async () => {
      const body = 'Your HIV test results came back negative.';
      const refused = await send({ to: CUSTOMER, body });
      expect(refused.statusCode).toBe(422);
      expect(refused.json().error.code).toBe('SENSITIVE_CONTENT');
      expect(refused.json().error.details.refusals[0].details.findings[0].kind).toBe('phi');
      await setSettings({ phiAllowed: true });
      try {
        const allowed = await send({ to: CUSTOMER, body });
        expect(allowed.statusCode).toBe(202);
      } finally {
        await setSettings({});
      }
    });

    it('refuses an opted-out number with OPTED_OUT', async () => {
      const phone = await freshPhone();
      await relay.app.inject({
        method: 'POST',
        url: '/v1/consent',
        headers: org.auth,
        payload: {
          phone,
          kind: 'opt_out',
          source: 'verbal',
          evidence: 'Asked on the phone not to be texted',
        },
      });
      const response = await send({ to: phone, body: 'Hello' });
      expect(response.statusCode).toBe(422);
      expect(response.json().error.code).toBe('OPTED_OUT');
    });

    it('blocks the fourth text in 24 hours to a Florida number with FREQUENCY_CAP', async () => {
      const phone = await freshPhone('305');
      for (let i = 0; i < 3; i++)
        expect((await send({ to: phone, body: `Reminder ${i}` })).statusCode).toBe(202);
      const fourth = await send({ to: phone, body: 'Reminder 3' });
      expect(fourth.statusCode).toBe(422);
      expect(fourth.json().error).toMatchObject({
        code: 'FREQUENCY_CAP',
        details: {
          refusals: [{ code: 'FREQUENCY_CAP', details: { limit: 3, states: ['FL'], sentInLast24h: 3 } }],
        },
      });
      // Washington DC has no cap.
      const dc = await freshPhone();
      for (let i = 0; i < 4; i++) expect((await send({ to: dc, body: `Note ${i}` })).statusCode).toBe(202);
    });

    it('refuses during quiet hours at the recipient with QUIET_HOURS and the next allowed time', async () => {
      pinned = new Date('2026-11-24T03:00:00Z'); // Monday 22:00 in Washington DC
      try {
        const response = await send({ to: CUSTOMER, body: 'Late reminder' });
        expect(response.statusCode).toBe(422);
        const { error } = response.json();
        expect(error.code).toBe('QUIET_HOURS');
        expect(error.details.nextAllowedAt).toBe('2026-11-24T13:00:00.000Z'); // 08:00 EST
        expect(error.details.refusals[0].details.nextAllowedAt).toBe('2026-11-24T13:00:00.000Z');
      } finally {
        pinned = null;
      }
    });

    it('judges quiet hours by the CRM contact’s time zone when the request names a known contact', async () => {
      pinned = new Date('2026-11-24T02:30:00Z'); // 21:30 in Washington, 18:30 in Los Angeles
      try {
        const byAreaCode = await preflight({ to: CUSTOMER, body: 'Hi' });
        expect(byAreaCode.json().refusals.map((r: Refusal) => r.code)).toEqual(['QUIET_HOURS']);
        const byCrm = await preflight({
          to: CUSTOMER,
          body: 'Hi',
          contact: { crm: 'sandbox', objectType: 'contact', id: 'c-1003' },
        });
        expect(byCrm.json()).toMatchObject({
          allowed: true,
          recipientLocalTime: {
            zone: 'America/Los_Angeles',
            localTime: '2026-11-23T18:30',
            zoneSource: 'crm_time_zone',
          },
        });
      } finally {
        pinned = null;
      }
    });
  });

  describe('scheduling', () => {
    it('schedules a text refused only for quiet hours at nextAllowedAt, and the worker leaves it until then', async () => {
      // 03:00 UTC (22:00 or 23:00 in Washington DC) after the workers' daytime: the text is held
      // for a morning that is still ahead of every other clock in this file, whatever today is.
      const night = daytime();
      night.setUTCHours(24 + 3, 0, 0, 0);
      pinned = night;
      try {
        const phone = await freshPhone();
        const refused = await send({ to: phone, body: 'Your appointment is tomorrow.' });
        const nextAllowedAt: string = refused.json().error.details.nextAllowedAt;
        const tooEarly = await send({
          to: phone,
          body: 'Your appointment is tomorrow.',
          sendAt: new Date(night.getTime() + 3_600_000).toISOString(),
        });
        expect(tooEarly.statusCode).toBe(422);
        expect(tooEarly.json().error.code).toBe('QUIET_HOURS');
        const scheduled = await send({
          to: phone,
          body: 'Your appointment is tomorrow.',
          sendAt: nextAllowedAt,
        });
        expect(scheduled.statusCode).toBe(202);
        expect(scheduled.json().scheduledFor).toBe(nextAllowedAt);
        const id: string = scheduled.json().message.id;
        // The message says when it will go: in the answer, the live event and every later read.
        expect(scheduled.json().message.scheduledFor).toBe(nextAllowedAt);
        const [created] = await db.query<{ payload: { message: { scheduledFor: string | null } } }>(
          `SELECT payload FROM events WHERE type = 'message.created' AND payload->'message'->>'id' = $1`,
          [id],
        );
        expect(created?.payload.message.scheduledFor).toBe(nextAllowedAt);
        const read = await relay.app.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: org.auth });
        expect(read.json().message.scheduledFor).toBe(nextAllowedAt);
        const jobs = await db.query<{ scheduled_for: Date; state: string }>(
          'SELECT scheduled_for, state FROM outbox_jobs WHERE message_id = $1',
          [id],
        );
        expect(jobs[0]?.scheduled_for.toISOString()).toBe(nextAllowedAt);
        await fastWorker().drain();
        const after = await db.query<{ state: string }>(
          'SELECT state FROM outbox_jobs WHERE message_id = $1',
          [id],
        );
        expect(after).toEqual([{ state: 'queued' }]);
      } finally {
        pinned = null;
      }
    });

    it('refuses a sendAt that is not a zoned ISO time or is too far ahead', async () => {
      for (const [sendAt, status, code] of [
        ['tomorrow', 400, 'VALIDATION_FAILED'],
        ['2026-11-24T10:00', 422, 'INVALID_SEND_AT'],
        ['2026-11-24 10:00:00 +0100', 422, 'INVALID_SEND_AT'],
        ['2099-01-01T10:00:00Z', 422, 'INVALID_SEND_AT'],
        [new Date(clock().getTime() + 8 * 24 * 3_600_000).toISOString(), 422, 'INVALID_SEND_AT'],
      ] as const) {
        const response = await send({ to: CUSTOMER, body: 'Later', sendAt });
        expect(response.statusCode, sendAt).toBe(status);
        expect(response.json().error.code, sendAt).toBe(code);
      }
    });
  });

  describe('preflight', () => {
    it('answers 200 with the exact final text, segments and every refusal, and stores nothing', async () => {
      const before = await db.query('SELECT count(*)::int AS n FROM messages');
      const phone = await freshPhone();
      const response = await preflight({ to: phone, body: 'Welcome aboard!' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        allowed: true,
        refusals: [],
        finalText: 'Acme Dental: Welcome aboard! Reply STOP to opt out.',
        segments: 1,
        encoding: 'GSM-7',
        nextAllowedAt: null,
        recipientLocalTime: { zone: 'America/New_York' },
      });
      const refused = await preflight({ to: '+12025559002', body: 'SSN 123-45-6789' });
      expect(refused.statusCode).toBe(200);
      expect(refused.json().allowed).toBe(false);
      expect(refused.json().refusals.map((r: Refusal) => r.code)).toEqual([
        'NO_CONSENT',
        'SENSITIVE_CONTENT',
      ]);
      expect(await db.query('SELECT count(*)::int AS n FROM messages')).toEqual(before);
    });

    it('refuses bad input with 4xx like the send endpoint', async () => {
      const response = await preflight({ to: '+12345678', body: 'hi' });
      expect(response.statusCode).toBe(422);
      expect(response.json().error.code).toBe('INVALID_PHONE_NUMBER');
    });

    it('decides exactly as the send endpoint does', async () => {
      const optedOut = await freshPhone();
      await relay.app.inject({
        method: 'POST',
        url: '/v1/consent',
        headers: org.auth,
        payload: { phone: optedOut, kind: 'opt_out', source: 'api', evidence: 'Unsubscribed by email' },
      });
      const cases: { to: string; body: string; at?: string }[] = [
        { to: await freshPhone(), body: 'A first hello' },
        { to: CUSTOMER, body: 'A follow-up' },
        { to: '+12025559003', body: 'No consent here' },
        { to: optedOut, body: 'Still there?' },
        { to: CUSTOMER, body: 'Card 4111111111111111' },
        { to: CUSTOMER, body: 'Your diagnosis of diabetes' },
        { to: CUSTOMER, body: 'At night', at: '2026-11-24T03:00:00Z' },
        { to: '+12025559004', body: 'Everything wrong: SSN 123-45-6789', at: '2026-11-24T03:00:00Z' },
      ];
      for (const c of cases) {
        pinned = c.at === undefined ? null : new Date(c.at);
        try {
          const check = (await preflight({ to: c.to, body: c.body })).json();
          const sent = await send({ to: c.to, body: c.body });
          if (check.allowed) {
            expect(sent.statusCode, c.body).toBe(202);
            expect(sent.json().message.body, c.body).toBe(check.finalText);
            expect(sent.json().message.segments, c.body).toBe(check.segments);
          } else {
            expect(sent.statusCode, c.body).toBe(422);
            expect(sent.json().error.code, c.body).toBe(check.refusals[0].code);
            expect(sent.json().error.details.refusals, c.body).toEqual(check.refusals);
          }
        } finally {
          pinned = null;
        }
      }
    });
  });
});
