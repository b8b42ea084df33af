import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseForScan } from '../../server/compliance/scan-normalisation.ts';
import { createKeyForOrg } from '../../server/organisations/org-admin.ts';
import { unassignedTexts } from '../../server/stores/message-bodies.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { idemKey, optIn, seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';
import { storedEventPayloads, storedEvidence, storedMessages } from '../helpers/stored-texts.ts';

postgresSkipNote('compliance inbound');

/** Every string inside a stored value (a text column, or a JSON payload's nested fields). */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

describe.each(ENGINES)('on %s', (engine) => {
  let drop: () => Promise<void>;

  let relay: TestRelay;
  let org: TestOrg;
  let baseUrl: string;

  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    relay = await testRelay(fresh.db);
    org = await seedOrg(relay.db);
    await relay.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(relay.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const PAN = '4111 1111 1111 1111';
  const PAN_DIGITS = '4111111111111111';

  const text = (handset: string, body: string) =>
    relay.sandbox.textFromHandset({ handset, service: org.sender, text: body });

  const send = (to: string, body: string) =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to, body },
    });

  async function thread(phone: string) {
    const list = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations?phone=${encodeURIComponent(phone)}`,
      headers: org.auth,
    });
    const id = list.json().conversations[0].id;
    const page = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations/${id}/messages`,
      headers: org.auth,
    });
    return page.json().messages as {
      id: string;
      direction: string;
      body: string;
      purpose: string;
      redactions: { kind: string; start: number; end: number; label: string }[];
    }[];
  }

  /** Reads the next `count` events of the org's live stream (SSE over a socket). */
  /**
   * Reads `count` events from /v1/events. `ready` settles once the relay has opened the stream
   * (its ": connected" line): what happens after it is streamed, however slow the machine.
   */
  function readStream(count: number): { ready: Promise<void>; events: Promise<string> } {
    let opened: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const events = new Promise<string>((resolve, reject) => {
      let raw = '';
      let seen = 0;
      const request = http.get(`${baseUrl}/v1/events`, { headers: org.auth }, (response) => {
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          raw += chunk;
          if (raw.includes(': connected')) opened();
          seen = raw.split('\n\n').filter((b) => b.includes('data: ')).length;
          if (seen >= count) {
            request.destroy();
            resolve(raw);
          }
        });
      });
      request.on('error', (error) => {
        if (seen < count) reject(error);
      });
      setTimeout(() => {
        request.destroy();
        resolve(raw);
      }, 15_000).unref();
    });
    return { ready, events };
  }

  describe('redaction before storage', () => {
    const phone = '+12025550161';
    let disguised = 0;

    it('stores a texted card number as brand and last four only, in the message, the events and the stream', async () => {
      const stream = readStream(2);
      await stream.ready;
      await text(phone, `Here is my card ${PAN} exp 12/28, thanks`);
      const [message] = (await thread(phone)).filter((m) => m.direction === 'inbound');
      expect(message?.body).not.toContain(PAN);
      expect(message?.body).toContain('1111');
      expect(message?.body).toMatch(/\[card •••• 1111 \(Visa\)\]/);
      const card = message?.redactions.find((r) => r.kind === 'card');
      expect(card).toBeDefined();
      expect(message?.body.slice(card?.start, card?.end)).toBe(card?.label);

      // The texts and ledger evidence as stored, opened (sealed at rest): none holds the number's digits.
      const texts = [
        ...(await storedMessages(relay.db)).map((m) => m.body),
        ...(await storedEventPayloads(relay.db)).map((p) => JSON.stringify(p)),
        ...(await storedEvidence(relay.db)),
      ];
      expect(texts.some((t) => t.includes('[card •••• 1111 (Visa)]'))).toBe(true);
      expect(texts.filter((t) => t.replace(/\D/g, '').includes(PAN_DIGITS))).toEqual([]);
      const streamed = await stream.events;
      expect(streamed).toContain('[card •••• 1111 (Visa)]');
      expect(streamed.replace(/\D/g, '')).not.toContain(PAN_DIGITS);
    });

    it('tells the customer once a day per conversation not to text card details', async () => {
      await text(phone, `Again: ${PAN}`);
      await text(phone, 'My SSN is 123-45-6789');
      const warnings = (await thread(phone)).filter((m) => m.purpose === 'card_warning');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.body).toMatch(/don't text card/);
      const ssn = (await thread(phone)).find((m) => m.body.includes('SSN is'));
      expect(ssn?.body).toBe('My SSN is [SSN removed]');
    });

    it('uses the org’s own warning text and never warns a number that opted out', async () => {
      await relay.db.query('UPDATE orgs SET settings = $2 WHERE id = $1', [
        org.orgId,
        JSON.stringify({ cardWarningReply: 'Acme: never text card numbers, we will send a secure link.' }),
      ]);
      try {
        const other = '+12025550162';
        await text(other, `card ${PAN}`);
        expect((await thread(other)).find((m) => m.purpose === 'card_warning')?.body).toBe(
          'Acme: never text card numbers, we will send a secure link.',
        );
        const gone = '+12025550163';
        await text(gone, 'STOP');
        await text(gone, `STOP ${PAN}`);
        expect((await thread(gone)).filter((m) => m.purpose === 'card_warning')).toEqual([]);
      } finally {
        await relay.db.query(`UPDATE orgs SET settings = '{}' WHERE id = $1`, [org.orgId]);
      }
    });

    // #13 finding 4: each of these was stored with the number (or half of it) in clear.
    it.each([
      ['underscores', 'card 4111_1111_1111_1111 thanks', 'card [card •••• 1111 (Visa)] thanks'],
      [
        'zero-width spaces',
        'card 4111\u200b1111\u200b1111\u200b1111 thanks',
        'card [card •••• 1111 (Visa)] thanks',
      ],
      ['Arabic-Indic digits', 'card ٤١١١ ١١١١ ١١١١ ١١١١ thanks', 'card [card •••• 1111 (Visa)] thanks'],
      [
        'full-width digits',
        'card ４１１１ １１１１ １１１１ １１１１ thanks',
        'card [card •••• 1111 (Visa)] thanks',
      ],
      ['a newline inside', 'card 4111 1111\n1111 1111 thanks', 'card [card •••• 1111 (Visa)] thanks'],
      ['a newline inside an SSN', 'my SSN is 455\n23\n1187', 'my SSN is [SSN removed]'],
      ['spaces in an SSN', 'it is 455 23 1187', 'it is [SSN removed]'],
    ])('stores a number written with %s redacted as a whole', async (_, body, stored) => {
      const handset = `+120255502${String(10 + disguised++)}`;
      await text(handset, body);
      const [message] = (await thread(handset)).filter((m) => m.direction === 'inbound');
      expect(message?.body).toBe(stored);
      for (const r of message?.redactions ?? []) expect(message?.body.slice(r.start, r.end)).toBe(r.label);
      // Every stored string (texts opened: they are sealed at rest) as the scanner sees it (any
      // script's digits, no invisible characters), with the separators between digits gone: none
      // holds a run of the number's digits.
      const kept = [
        ...(await storedMessages(relay.db)).map((m) => m.body),
        ...(await storedEventPayloads(relay.db)),
      ];
      expect(kept.some((k) => JSON.stringify(k).includes('[card'))).toBe(true);
      const strings = kept.flatMap((k) => stringsIn(k));
      const digitRuns = strings.map((t) => normaliseForScan(t).text.replace(/(?<=\d)[ -]+(?=\d)/g, ''));
      for (const secret of ['41111111', '11111111', '455231187', '4552311', '231187'])
        expect(digitRuns.filter((t) => t.includes(secret))).toEqual([]);
    });

    it('redacts a text to a number no org owns as well', async () => {
      await relay.sandbox.textFromHandset({ handset: phone, service: '+14155550100', text: `card ${PAN}` });
      const rows = await unassignedTexts(relay.db);
      expect(rows.map((r) => r.body)).toEqual(['card [card •••• 1111 (Visa)]']);
    });
  });

  describe('plain-language opt-outs', () => {
    it('honours "please stop texting me" like STOP: opted out, queued texts fail, one confirmation', async () => {
      const phone = '+12025550171';
      await optIn(relay.app, org, phone);
      const queued = await send(phone, 'Special offer');
      expect(queued.statusCode).toBe(202);
      await text(phone, 'please stop texting me');
      const consent = await relay.app.inject({
        method: 'GET',
        url: `/v1/consent/${encodeURIComponent(phone)}`,
        headers: org.auth,
      });
      expect(consent.json().status).toBe('opted_out');
      // The ledger keeps the exact text and the rule that read it as an opt-out.
      expect(consent.json().events[0]).toMatchObject({
        kind: 'opt_out',
        source: 'reply',
        evidence: 'please stop texting me',
        classification: expect.stringMatching(/do-not-message/),
      });
      const messages = await thread(phone);
      expect(messages.filter((m) => m.purpose === 'opt_out_confirmation')).toHaveLength(1);
      const stored = await relay.db.query<{ status: string }>('SELECT status FROM messages WHERE id = $1', [
        queued.json().message.id,
      ]);
      expect(stored).toEqual([{ status: 'failed' }]);
    });

    it('answers YES as an opt-in only for a number that opted out', async () => {
      const phone = '+12025550172';
      await text(phone, 'yes');
      let consent = await relay.app.inject({
        method: 'GET',
        url: `/v1/consent/${encodeURIComponent(phone)}`,
        headers: org.auth,
      });
      expect(consent.json().status).toBe('unknown');
      await text(phone, 'STOP');
      await text(phone, 'YES');
      consent = await relay.app.inject({
        method: 'GET',
        url: `/v1/consent/${encodeURIComponent(phone)}`,
        headers: org.auth,
      });
      expect(consent.json().status).toBe('opted_in');
    });

    it('answers HELP with the org’s help text', async () => {
      const phone = '+12025550173';
      await text(phone, 'HELP');
      const help = (await thread(phone)).find((m) => m.purpose === 'help_reply');
      expect(help?.body).toMatch(/^Acme Dental: Msg frequency varies/);
    });
  });

  describe('unclear replies pause sending until a person decides', () => {
    const reviews = (auth: { authorization: string }, status = 'open') =>
      relay.app.inject({ method: 'GET', url: `/v1/reviews?status=${status}`, headers: auth });
    const decide = (auth: { authorization: string }, id: string, decision: string, note?: string) =>
      relay.app.inject({
        method: 'POST',
        url: `/v1/reviews/${id}/decide`,
        headers: auth,
        payload: { decision, ...(note === undefined ? {} : { note }) },
      });

    it('pauses an opted-in number after "no thanks" and resumes when a reviewer keeps it', async () => {
      const phone = '+12025550181';
      await optIn(relay.app, org, phone);
      expect((await send(phone, 'Want a cleaning slot Friday?')).statusCode).toBe(202);
      await text(phone, 'no thanks');
      const paused = await send(phone, 'How about Monday?');
      expect(paused.statusCode).toBe(422);
      expect(paused.json().error.code).toBe('PAUSED_FOR_REVIEW');
      const open = (await reviews(org.auth)).json().reviews;
      const review = open.find((r: { phone: string }) => r.phone === phone);
      expect(review).toMatchObject({ phone, text: 'no thanks', status: 'open' });
      expect(review.reason).toMatch(/decline/);

      const decided = await decide(org.auth, review.id, 'keep', 'Declined the slot, not the texts');
      expect(decided.statusCode).toBe(200);
      expect(decided.json().review).toMatchObject({
        status: 'kept',
        note: 'Declined the slot, not the texts',
      });
      expect((await send(phone, 'How about Monday?')).statusCode).toBe(202);
      // A retry of the same decision answers the same; the other decision is a conflict.
      expect((await decide(org.auth, review.id, 'keep')).statusCode).toBe(200);
      const conflict = await decide(org.auth, review.id, 'opt_out');
      expect(conflict.statusCode).toBe(409);
      expect(conflict.json().error.code).toBe('REVIEW_ALREADY_DECIDED');
    });

    it('records an opt-out in the ledger with the reviewer and the flagged text when the reviewer says so', async () => {
      const phone = '+12025550182';
      await optIn(relay.app, org, phone);
      const queued = await send(phone, 'Your invoice is ready');
      await text(phone, 'cancel my order');
      const { reviews: open } = (await reviews(org.auth)).json();
      const review = open.find((r: { phone: string }) => r.phone === phone);
      const reviewer = await createKeyForOrg(relay.db, {
        orgId: org.orgId,
        role: 'compliance_reviewer',
        name: 'reviewer',
      });
      const decided = await decide({ authorization: `Bearer ${reviewer.key}` }, review.id, 'opt_out');
      expect(decided.statusCode).toBe(200);
      const consent = (
        await relay.app.inject({
          method: 'GET',
          url: `/v1/consent/${encodeURIComponent(phone)}`,
          headers: org.auth,
        })
      ).json();
      expect(consent.status).toBe('opted_out');
      expect(consent.events[0]).toMatchObject({
        kind: 'opt_out',
        source: 'review',
        evidence: 'cancel my order',
        actor: `api-key:${reviewer.keyId}`,
      });
      const refused = await send(phone, 'Anything else?');
      expect(refused.json().error.code).toBe('OPTED_OUT');
      const stored = await relay.db.query<{ status: string }>('SELECT status FROM messages WHERE id = $1', [
        queued.json().message.id,
      ]);
      expect(stored).toEqual([{ status: 'failed' }]);
    });

    it('lets only roles with review.flagged see or decide reviews, and only in their org', async () => {
      const rep = await createKeyForOrg(relay.db, { orgId: org.orgId, role: 'rep', name: 'rep' });
      const forbidden = await reviews({ authorization: `Bearer ${rep.key}` });
      expect(forbidden.statusCode).toBe(403);
      const other = await seedOrg(relay.db, { name: 'Other Co', sender: '+13125550100' });
      const { reviews: mine } = (await reviews(org.auth, 'all')).json();
      expect(mine.length).toBeGreaterThan(0);
      expect((await reviews(other.auth, 'all')).json().reviews).toEqual([]);
      const foreign = await decide(other.auth, mine[0].id, 'keep');
      expect(foreign.statusCode).toBe(404);
    });

    it('lifts the pause when the customer opts back in by keyword', async () => {
      const phone = '+12025550183';
      await optIn(relay.app, org, phone);
      await text(phone, 'nope');
      expect((await send(phone, 'Hello?')).json().error.code).toBe('PAUSED_FOR_REVIEW');
      await text(phone, 'START');
      expect((await send(phone, 'Welcome back')).statusCode).toBe(202);
    });
  });

  describe('double opt-in', () => {
    const recordOptIn = (phone: string, source = 'web_form') =>
      relay.app.inject({
        method: 'POST',
        url: '/v1/consent',
        headers: org.auth,
        payload: { phone, kind: 'opt_in', source, evidence: 'Ticked the box on the booking form' },
      });
    const consentOf = async (phone: string) =>
      (
        await relay.app.inject({
          method: 'GET',
          url: `/v1/consent/${encodeURIComponent(phone)}`,
          headers: org.auth,
        })
      ).json();

    beforeAll(async () => {
      await relay.db.query('UPDATE orgs SET settings = $2 WHERE id = $1', [
        org.orgId,
        JSON.stringify({ doubleOptIn: true }),
      ]);
    });
    afterAll(async () => {
      await relay.db.query(`UPDATE orgs SET settings = '{}' WHERE id = $1`, [org.orgId]);
    });

    it('keeps a recorded opt-in pending, asks the customer once, and activates it on YES', async () => {
      const phone = '+12025550191';
      const recorded = await recordOptIn(phone);
      expect(recorded.statusCode).toBe(202);
      expect(recorded.json()).toMatchObject({ status: 'unknown', pendingConfirmation: true });
      expect(await recordOptIn(phone)).toHaveProperty('statusCode', 202);
      expect((await consentOf(phone)).pendingOptIn).toMatchObject({ source: 'web_form' });
      expect((await send(phone, 'Welcome!')).json().error.code).toBe('NO_CONSENT');
      const questions = (await thread(phone)).filter((m) => m.purpose === 'opt_in_request');
      expect(questions).toHaveLength(1);
      expect(questions[0]?.body).toMatch(/Reply YES to receive texts/);

      await text(phone, 'Yes!');
      const consent = await consentOf(phone);
      expect(consent).toMatchObject({ status: 'opted_in', source: 'web_form', pendingOptIn: null });
      expect(consent.events[0].evidence).toBe(
        'Ticked the box on the booking form — confirmed by the customer\'s reply "Yes!"',
      );
      expect((await send(phone, 'Welcome!')).statusCode).toBe(202);
    });

    it('drops a pending opt-in when the customer answers STOP', async () => {
      const phone = '+12025550192';
      await recordOptIn(phone, 'verbal');
      await text(phone, 'STOP');
      await text(phone, 'yes');
      const consent = await consentOf(phone);
      // YES after an opt-out is itself a re-subscription, recorded as the customer's keyword.
      expect(consent).toMatchObject({ status: 'opted_in', source: 'keyword', pendingOptIn: null });
      const other = '+12025550193';
      await recordOptIn(other, 'verbal');
      await text(other, 'STOP');
      expect(await consentOf(other)).toMatchObject({ status: 'opted_out', pendingOptIn: null });
    });

    it('does not re-ask for CRM imports', async () => {
      const phone = '+12025550194';
      expect((await recordOptIn(phone, 'crm_import')).statusCode).toBe(201);
      expect((await consentOf(phone)).status).toBe('opted_in');
    });
  });
});
