import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrmNotFoundError } from '../../crm-plugins/errors.ts';
import { dealIdOf } from '../../crm-plugins/payment-entry.ts';
import type { ContactRef, CrmPayment } from '../../crm-plugins/types.ts';
import { CRM_IMPLEMENTATIONS, type Harness, isolateSalesforceHome } from './harnesses.ts';

const IMPLEMENTATIONS = CRM_IMPLEMENTATIONS;

let restoreHome: () => void = () => {};
beforeAll(() => {
  restoreHome = isolateSalesforceHome();
});
afterAll(() => restoreHome());

/** Times relative to now, so the suite reads the same on any date. */
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);

describe.each(IMPLEMENTATIONS)('CrmPlugin.recordPayment: %s', (_name, start) => {
  let h: Harness;
  let dana: ContactRef;
  let seq = 0;
  const payment = (overrides: Partial<CrmPayment> = {}): CrmPayment => {
    seq += 1;
    return {
      requestId: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
      contact: dana,
      status: 'sent',
      amountMinor: 12_550,
      currency: 'usd',
      description: 'Kitchen <deposit> & "tiles"',
      reference: 'INV-1042',
      card: null,
      paidAt: null,
      expiresAt: new Date(Date.now() + 3 * 86_400_000),
      refundedMinor: 0,
      createdAt: minutesAgo(30),
      updatedAt: minutesAgo(30),
      ...overrides,
    };
  };

  beforeAll(async () => {
    h = await start();
    dana = h.seed({ objectType: 'contact', first: 'Dana', last: 'Whitfield', phone: '(415) 555-0123' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses before install with a typed not_installed error, writing nothing', async () => {
    await expect(h.plugin.recordPayment(payment())).rejects.toMatchObject({ code: 'not_installed' });
    expect(h.paymentCount()).toBe(0);
  });

  it('lists the payment fields in the install plan, then installs them', async () => {
    const plan = await h.plugin.planInstall();
    const targets = plan.steps.filter((s) => s.action === 'create').map((s) => s.target);
    const expected: Record<string, string[]> = {
      sandbox: ['payment.sms_relay_payment_request_id'],
      hubspot: [
        'notes.sms_relay',
        'deals.sms_relay',
        'notes.sms_relay_payment_request_id',
        'deals.sms_payment_status',
        'deals.sms_payment_amount',
        'deals.sms_payment_paid_at',
      ],
      salesforce: [
        'Task.SMS_Payment_Request_Id__c',
        'Opportunity.SMS_Payment_Status__c',
        'Opportunity.SMS_Payment_Amount__c',
        'Opportunity.SMS_Payment_Paid_At__c',
        'FieldPermissions.Opportunity.SMS_Payment_Status__c',
      ],
    };
    expect(targets).toEqual(expect.arrayContaining(expected[h.crm] ?? []));
    const report = await h.plugin.install(plan);
    expect(report.created).toEqual(expect.arrayContaining(expected[h.crm] ?? []));
    expect((await h.plugin.healthCheck()).ok).toBe(true);
    expect((await h.plugin.planInstall()).steps.every((s) => s.action === 'exists')).toBe(true);
  });

  it('writes one entry per request: a retry finds it instead of adding a second', async () => {
    const p = payment();
    const first = await h.plugin.recordPayment(p);
    const again = await h.plugin.recordPayment(p);
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ entryId: first.entryId, created: false });
    const entries = h.payments(dana).filter((e) => e.key === p.requestId);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.text).toContain('$125.50');
    expect(entries[0]?.text).toContain('Kitchen <deposit> & "tiles"');
    expect(entries[0]?.text).toContain('Reference: INV-1042');
    expect(entries[0]?.text).toContain('Link sent');
    expect(entries[0]?.text).toMatch(/Link expires: \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
  });

  it('rewrites the same entry when the status moves on, naming the card by brand and last 4 only', async () => {
    const p = payment();
    const sent = await h.plugin.recordPayment(p);
    const paidAt = minutesAgo(1);
    const paid = await h.plugin.recordPayment({
      ...p,
      status: 'paid',
      card: { brand: 'visa', last4: '4242' },
      paidAt,
      updatedAt: paidAt,
    });
    expect(paid).toMatchObject({ entryId: sent.entryId, created: false, deal: null });
    const [entry, ...more] = h.payments(dana).filter((e) => e.key === p.requestId);
    expect(more).toHaveLength(0);
    expect(entry?.text).toContain('Paid by Visa ending 4242');
    expect(entry?.text).toContain('Payment request $125.50: Paid');
    expect(entry?.text).not.toContain('Link sent');
    if (h.crm === 'salesforce') expect(entry?.taskStatus).toBe('Completed');
  });

  it('finds its entry by the id it returned while the CRM search still misses it', async () => {
    if (h.lagSearch === undefined) return;
    h.lagSearch(true);
    try {
      const p = payment();
      const first = await h.plugin.recordPayment(p);
      const paid = await h.plugin.recordPayment({ ...p, status: 'paid', entryId: first.entryId });
      expect(paid).toMatchObject({ entryId: first.entryId, created: false });
      expect(h.payments(dana).filter((e) => e.key === p.requestId)).toHaveLength(1);
    } finally {
      h.lagSearch(false);
    }
  });

  it('never writes more of a card than four digits', async () => {
    const p = payment({
      status: 'paid',
      card: { brand: 'visa', last4: '4242424242424242' },
      paidAt: minutesAgo(2),
    });
    await h.plugin.recordPayment(p);
    const entry = h.payments(dana).find((e) => e.key === p.requestId);
    expect(entry?.text).not.toContain('4242424242424242');
    expect(entry?.text).not.toContain('Paid by');
  });

  it('keeps a Salesforce Task open until the request is settled', async () => {
    if (h.crm !== 'salesforce') return;
    const p = payment({ status: 'opened' });
    await h.plugin.recordPayment(p);
    expect(h.payments(dana).find((e) => e.key === p.requestId)?.taskStatus).toBe('In Progress');
  });

  it("sets the named deal's payment fields, and still logs the entry when the deal is gone", async () => {
    const deal = h.addDeal();
    if (deal === null) {
      // The sandbox has no deals: a deal-like reference is only shown.
      const p = payment({ reference: 'deal:123' });
      expect((await h.plugin.recordPayment(p)).deal).toBeNull();
      return;
    }
    const paidAt = minutesAgo(3);
    const p = payment({
      reference: deal.reference,
      status: 'paid',
      paidAt,
      card: { brand: 'mastercard', last4: '0005' },
    });
    const recorded = await h.plugin.recordPayment(p);
    expect(recorded.deal).toEqual({ id: deal.id, updated: true });
    expect(h.deal(deal.id)).toEqual({ status: 'paid', amount: 125.5, currency: 'USD', paidAt });
    await h.plugin.recordPayment({ ...p, status: 'refunded', refundedMinor: 12_550 });
    expect(h.deal(deal.id)?.status).toBe('refunded');

    const missing = h.crm === 'hubspot' ? 'deal:999999' : '0065g00000ZZZZZAAA';
    const orphan = payment({ reference: missing });
    const written = await h.plugin.recordPayment(orphan);
    expect(written.deal).toEqual({ id: missing.replace('deal:', ''), updated: false });
    expect(h.payments(dana).filter((e) => e.key === orphan.requestId)).toHaveLength(1);
  });

  it('writes the note without the deal when the token may not touch deals, and plans no deal fields', async () => {
    if (h.denyDeals === undefined) return;
    const deal = h.addDeal();
    if (deal === null) return;
    h.denyDeals(1);
    const p = payment({ reference: deal.reference });
    expect((await h.plugin.recordPayment(p)).deal).toEqual({ id: deal.id, updated: false });
    expect(h.payments(dana).filter((e) => e.key === p.requestId)).toHaveLength(1);
    h.denyDeals(1);
    const plan = await h.plugin.planInstall();
    expect(plan.steps.length).toBeGreaterThan(0);
    expect(plan.steps.some((s) => s.target.startsWith('deals.'))).toBe(false);
  });

  it('refuses a record of another CRM, or one that is gone, and writes nothing', async () => {
    const before = h.paymentCount();
    const foreign: ContactRef = {
      crm: h.crm === 'hubspot' ? 'salesforce' : 'hubspot',
      objectType: 'contact',
      id: '0035g00000ABCDEAAA',
    };
    await expect(h.plugin.recordPayment(payment({ contact: foreign }))).rejects.toBeInstanceOf(
      CrmNotFoundError,
    );
    const gone: ContactRef = {
      ...dana,
      id: h.crm === 'salesforce' ? '0035g00000GONE0AAA' : h.crm === 'hubspot' ? '999999' : 'c-404',
    };
    await expect(h.plugin.recordPayment(payment({ contact: gone }))).rejects.toBeInstanceOf(CrmNotFoundError);
    expect(h.paymentCount()).toBe(before);
  });
});

describe('the deal a payment reference names', () => {
  it.each([
    ['hubspot', 'deal:123', '123'],
    ['hubspot', ' Deal: 42 ', '42'],
    ['hubspot', '123', null],
    ['hubspot', 'INV-1042', null],
    ['salesforce', '0065g00000ABCDEAAA', '0065g00000ABCDEAAA'],
    ['salesforce', 'opportunity:0065g00000ABCDE', '0065g00000ABCDE'],
    ['salesforce', '0035g00000ABCDEAAA', null],
    ['salesforce', 'deal:123', null],
    ['sandbox', 'deal:123', null],
  ] as const)('%s reads %j as deal %j', (crm, reference, deal) => {
    expect(dealIdOf(crm, reference)).toBe(deal);
  });
});
