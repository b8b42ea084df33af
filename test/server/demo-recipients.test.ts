import { describe, expect, it } from 'vitest';
import { DEMO_CONTACTS } from '../../crm-plugins/sandbox/contacts.ts';
import { evaluateQuietHours } from '../../server/compliance/quiet-hours.ts';
import { resolveRecipientZones } from '../../server/compliance/recipient-zones.ts';
import { demoRecipients, firstTextableDemoRecipient } from '../../server/demo-recipients.ts';
import { demoBanner } from '../../server/main.ts';
import { freshPglite } from '../helpers/db.ts';
import { idemKey, optIn, seedOrg, testRelay } from '../helpers/relay.ts';

const MINUTE = 60_000;

describe('the quick start at any hour', () => {
  it('has a demo contact that quiet hours allow texting, every 15 minutes of a year with both DST changes', () => {
    // The candidates firstTextableDemoRecipient picks from: reachable contact records.
    const candidates = DEMO_CONTACTS.filter(
      (c) => c.ref.objectType === 'contact' && c.phones[0] !== '+16175550199',
    ).map((c) => resolveRecipientZones({ phoneE164: c.phones[0] ?? '', crmTimeZone: c.timeZone }));
    const start = Date.parse('2027-01-01T00:07:00Z');
    const gaps: string[] = [];
    for (let t = start; t < start + 365 * 24 * 60 * MINUTE; t += 15 * MINUTE) {
      const now = new Date(t);
      if (!candidates.some((zones) => evaluateQuietHours({ ...zones, now }).allowed))
        gaps.push(now.toISOString());
    }
    expect(gaps).toEqual([]);
  });

  it('has a demo contact in quiet hours for the next ten minutes, every 20 minutes of a year', () => {
    // What the start-up test refuses a send to, at whatever hour it runs.
    const records = DEMO_CONTACTS.filter((c) => c.ref.objectType === 'contact').map((c) =>
      resolveRecipientZones({ phoneE164: c.phones[0] ?? '', crmTimeZone: c.timeZone }),
    );
    const quiet = (zones: (typeof records)[number], t: number) =>
      !evaluateQuietHours({ ...zones, now: new Date(t) }).allowed;
    const start = Date.parse('2027-01-01T00:07:00Z');
    const gaps: string[] = [];
    for (let t = start; t < start + 365 * 24 * 60 * MINUTE; t += 20 * MINUTE) {
      if (!records.some((zones) => quiet(zones, t) && quiet(zones, t + 10 * MINUTE))) {
        gaps.push(new Date(t).toISOString());
      }
    }
    expect(gaps).toEqual([]);
  });

  it('names one that stays open for the next half hour, so the advice holds while it is followed', () => {
    for (let hour = 0; hour < 24; hour++) {
      for (const minute of [0, 29, 44, 59]) {
        const now = new Date(Date.UTC(2027, 2, 14, hour, minute));
        const first = firstTextableDemoRecipient(now);
        expect(first, now.toISOString()).not.toBeNull();
        const zones = resolveRecipientZones({
          phoneE164: first?.phone ?? '',
          crmTimeZone: first?.contact.timeZone ?? null,
        });
        expect(
          evaluateQuietHours({ ...zones, now: new Date(now.getTime() + 30 * MINUTE) }).allowed,
          `${first?.contact.name} at ${now.toISOString()} + 30 min`,
        ).toBe(true);
      }
    }
  });

  it('judges each demo contact by the rules a send is judged by', () => {
    // 03:00 UTC: evening in Honolulu, night on the US mainland, morning... not yet in London.
    const now = new Date('2027-07-14T03:00:00Z');
    const byName = new Map(demoRecipients(now).map((r) => [r.contact.name, r]));
    expect(byName.get('Keoni Kahale')).toMatchObject({ textableNow: true, heldUntil: null });
    expect(byName.get('Dana Whitfield')).toMatchObject({ textableNow: false, localTime: '11:00 PM' });
    expect(byName.get('Dana Whitfield')?.heldUntil?.toISOString()).toBe('2027-07-14T12:00:00.000Z');
    expect(byName.get('Olivia Bennett')).toMatchObject({ textableNow: false, localTime: '4:00 AM' });
    expect(demoRecipients(now)).toHaveLength(DEMO_CONTACTS.length);
  });

  it("prints the contact to text now and why the others wait in npm start's banner", () => {
    const lines = demoBanner(new Date('2027-07-14T03:00:00Z'));
    expect(lines[0]).toContain('Text now:        Keoni Kahale (c-1005, +18085550124), 5:00 PM');
    expect(lines[1]).toContain('export TO=+18085550124 REF=c-1005');
    expect(lines.slice(2).join('\n')).toMatch(
      /Quiet hours now: Dana Whitfield 11:00 PM, .*Olivia Bennett 4:00 AM.* \(texts to them wait for 8:00 AM their time\)/,
    );
  });

  it('shows on the sandbox CRM page who may be texted now and when the others open', async () => {
    const db = await freshPglite();
    const relay = await testRelay(db, { clock: () => new Date('2027-07-14T03:00:00Z') });
    try {
      const page = await relay.app.inject({ method: 'GET', url: '/sandbox/crm' });
      expect(page.statusCode).toBe(200);
      expect(page.body).toMatch(/Keoni Kahale<\/a>.*?data-textable="true">open now</s);
      expect(page.body).toMatch(
        /Dana Whitfield<\/a>.*?11:00 PM \(America\/New_York\).*?quiet hours until 8:00 AM their time/s,
      );
    } finally {
      await relay.close();
      await db.close();
    }
  });

  it('delivers to a demo contact abroad: the outbox judges by the CRM time zone the send was judged by', async () => {
    const db = await freshPglite();
    // 12:00 UTC: 1 p.m. in London, where the area code says nothing.
    const relay = await testRelay(db, { clock: () => new Date('2027-07-14T12:00:00Z') });
    try {
      const org = await seedOrg(db);
      await optIn(relay.app, org, '+447700900461');
      const sent = await relay.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...org.auth, 'idempotency-key': idemKey() },
        payload: {
          from: org.sender,
          contact: { crm: 'sandbox', objectType: 'contact', id: 'c-1007' },
          body: 'Hello!',
        },
      });
      expect(sent.statusCode, sent.body).toBe(202);
      await relay.worker.drain();
      const [row] = await db.query<{ status: string; error_code: string | null }>(
        'SELECT status, error_code FROM messages WHERE id = $1',
        [sent.json().message.id],
      );
      expect(row?.error_code ?? null).toBeNull();
      expect(['sent', 'delivered']).toContain(row?.status);
    } finally {
      await relay.close();
      await db.close();
    }
  });
});
