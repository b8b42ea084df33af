// @vitest-environment node
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PaymentListener } from '../../extension/hooks/use-live-messages.ts';
import type { ContactRef } from '../../extension/hosts/types.ts';
import { formatMinor, minorDigits, parseAmount } from '../../extension/lib/money.ts';
import { type Payment, parsePayment } from '../../extension/lib/payment-types.ts';
import { PaymentsApi } from '../../extension/lib/relay/payments-api.ts';
import { RelayClient } from '../../extension/lib/relay/relay-client.ts';
import { messageFixture } from './fixtures.ts';
import { click, dom, mounter, submit, typeInto, until } from './preact-dom.ts';

type Preact = typeof import('preact');
let preact: Preact;
let PaymentRequestForm: typeof import('../../extension/components/PaymentRequestForm.tsx').PaymentRequestForm;
let PaymentRequests: typeof import('../../extension/components/PaymentRequests.tsx').PaymentRequests;
let usePaymentRequests: typeof import('../../extension/hooks/use-payment-requests.ts').usePaymentRequests;

beforeAll(async () => {
  preact = await import('preact');
  ({ PaymentRequestForm } = await import('../../extension/components/PaymentRequestForm.tsx'));
  ({ PaymentRequests } = await import('../../extension/components/PaymentRequests.tsx'));
  ({ usePaymentRequests } = await import('../../extension/hooks/use-payment-requests.ts'));
});

const { mount, cleanup } = mounter(() => preact);
afterEach(cleanup);

const REF: ContactRef = { crm: 'hubspot', objectType: 'contact', id: '51', portalId: '8675309' };
const FROM = '+15550001111';
const TO = '+15125550100';
const CONVERSATION = '0b8f7c1e-1111-4a5b-9c9d-000000000001';
const TERMS = {
  businessName: 'Acme Dental',
  currencies: ['usd', 'jpy'],
  linkDays: 7,
  maxLinkDays: 30,
  maxAmountMinor: 100_000,
};

const q = (r: Element, selector: string): HTMLElement | null =>
  r.querySelector(selector) as HTMLElement | null;
const field = (r: Element, label: string): HTMLInputElement => {
  const found = [...r.querySelectorAll('label')].find((l) => l.textContent?.trim().startsWith(label));
  const input =
    found?.querySelector('input, select') ??
    (found?.getAttribute('for') ? r.querySelector(`#${found.getAttribute('for')}`) : null);
  if (!input) throw new Error(`no field labelled ${label}`);
  return input as HTMLInputElement;
};

function payment(patch: Partial<Payment> = {}): Payment {
  const at = new Date().toISOString();
  return {
    id: 'b6a1f5c2-2222-4d3e-8f00-000000000001',
    status: 'sent',
    amountMinor: 12550,
    currency: 'usd',
    amountText: '$125.50',
    description: 'Crown fitting',
    reference: 'INV-7',
    conversationId: CONVERSATION,
    messageId: null,
    expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    createdAt: at,
    updatedAt: at,
    createdBy: { userId: 'u1', name: 'Sam Rep' },
    paid: null,
    refundedMinor: 0,
    reviewReason: null,
    remindedAt: null,
    ...patch,
  };
}

type Answer = { status: number; body: unknown } | 'network-down';

/** A relay for the payment calls: answers chosen per path, every request recorded with its key. */
function fakeRelay(answer: (method: string, path: string, body: unknown) => Answer) {
  const calls: Array<{ method: string; path: string; body: unknown; key: string | undefined }> = [];
  const client = new RelayClient({
    baseUrl: 'http://relay.test',
    apiKey: 'k',
    fetch: async (url, init) => {
      const u = new URL(url);
      const body = init.body === undefined ? undefined : JSON.parse(String(init.body));
      const headers = init.headers as Record<string, string>;
      const method = init.method ?? 'GET';
      calls.push({ method, path: u.pathname + u.search, body, key: headers['Idempotency-Key'] });
      const a = answer(method, u.pathname, body);
      if (a === 'network-down') throw new TypeError('Failed to fetch');
      return new Response(JSON.stringify(a.body), { status: a.status });
    },
  });
  return { api: new PaymentsApi(client), calls };
}

const allowedCheck = (text: string, patch: Record<string, unknown> = {}) => ({
  allowed: true,
  refusals: [],
  finalText: text,
  segments: 2,
  encoding: 'GSM-7',
  recipientLocalTime: null,
  nextAllowedAt: null,
  schedulable: false,
  ...patch,
});

const previewOf = (body: { amountMinor: number; description: string }, check = allowedCheck('x')) => ({
  text: `Acme Dental: please pay ${formatMinor(body.amountMinor, 'usd', 'en-US')} for ${body.description} at http://relay.test/p/xxxx`,
  check,
  settings: {
    currencies: TERMS.currencies,
    linkDays: 7,
    maxLinkDays: 30,
    maxAmountMinor: TERMS.maxAmountMinor,
  },
});

function form(answer: (method: string, path: string, body: unknown) => Answer) {
  const relay = fakeRelay((method, path, body) =>
    path === '/v1/payment-requests/terms' ? { status: 200, body: TERMS } : answer(method, path, body),
  );
  const onRequested = vi.fn();
  const r = mount(
    <PaymentRequestForm
      api={relay.api}
      contactRef={REF}
      contactName="Ada Lovelace"
      from={FROM}
      to={TO}
      onRequested={onRequested}
      onClose={vi.fn()}
    />,
  );
  return { r, calls: relay.calls, onRequested };
}

const sendButton = (r: Element) => q(r, 'button[type=submit]') as HTMLButtonElement;

describe('amounts as a rep types them', () => {
  it('turns decimal text into minor units by the currency’s decimals, never through a float', () => {
    expect(parseAmount('125.5', 'usd')).toEqual({ minor: 12550, error: null });
    expect(parseAmount(' 1,250.05 ', 'usd')).toEqual({ minor: 125005, error: null });
    expect(parseAmount('0.29', 'usd')).toEqual({ minor: 29, error: null });
    expect(parseAmount('1250', 'jpy')).toEqual({ minor: 1250, error: null });
    expect(parseAmount('1.234', 'kwd')).toEqual({ minor: 1234, error: null });
    expect(minorDigits('jpy')).toBe(0);
  });

  it('says why text is not an amount', () => {
    expect(parseAmount('', 'usd').error).toBe('Enter an amount.');
    expect(parseAmount('12.345', 'usd').error).toBe('USD has at most 2 decimals.');
    expect(parseAmount('12.5', 'jpy').error).toBe('JPY has no decimals.');
    expect(parseAmount('0.00', 'usd').error).toBe('The amount must be more than zero.');
    expect(parseAmount('-5', 'usd').error).toMatch(/digits/);
    expect(parseAmount('1e3', 'usd').error).toMatch(/digits/);
    expect(parseAmount('99999999999999999999', 'usd').error).toBe('That amount is too large.');
  });
});

describe('payment answers from the relay', () => {
  it('parses a request and refuses one with an unknown status', () => {
    expect(parsePayment(payment({ status: 'paid' })).status).toBe('paid');
    expect(() => parsePayment({ ...payment(), status: 'settled' })).toThrow(/payment.status/);
    expect(() => parsePayment({ ...payment(), amountMinor: 1.5 })).toThrow(/an integer/);
  });
});

describe('PaymentRequestForm', () => {
  it('previews the exact text and sends the request with the amount in minor units and a key', async () => {
    const { r, calls, onRequested } = form((_method, path, body) => {
      const b = body as { amountMinor: number; description: string };
      if (path === '/v1/payment-requests/preview') return { status: 200, body: previewOf(b) };
      return {
        status: 201,
        body: { payment: payment(), message: messageFixture({ from: FROM, to: TO, body: 'Acme Dental: …' }) },
      };
    });
    await until(() => q(r, 'form[aria-label="Request payment"]'), 'the form');
    expect([...field(r, 'Currency').querySelectorAll('option')].map((o) => o.textContent)).toEqual([
      'USD',
      'JPY',
    ]);
    expect(field(r, 'Link works for').value).toBe('7');
    expect(sendButton(r).disabled).toBe(true);
    typeInto(field(r, 'Amount'), '125.5');
    typeInto(field(r, 'What it is for'), 'Crown fitting');
    typeInto(field(r, 'Invoice or deal reference'), ' INV-7 ');
    const preview = await until(() => q(r, '[data-testid=payment-preview]'), 'the preview');
    expect(preview.textContent).toContain('$125.50 for Crown fitting');
    expect(sendButton(r).disabled).toBe(false);
    submit(q(r, 'form'));
    await until(() => onRequested.mock.calls.length === 1, 'the request');
    const create = calls.find((c) => c.method === 'POST' && c.path === '/v1/payment-requests');
    expect(create?.body).toEqual({
      from: FROM,
      to: TO,
      contact: { crm: 'hubspot', objectType: 'contact', id: '51' },
      amountMinor: 12550,
      currency: 'usd',
      description: 'Crown fitting',
      reference: 'INV-7',
      expiresInDays: 7,
    });
    expect(create?.key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('says what is wrong with the amount and asks the relay nothing until it is right', async () => {
    const { r, calls } = form(() => ({ status: 500, body: {} }));
    await until(() => q(r, 'form[aria-label="Request payment"]'), 'the form');
    typeInto(field(r, 'Amount'), '12.345');
    typeInto(field(r, 'What it is for'), 'Deposit');
    await until(
      () => q(r, '[data-testid=payment-problem]')?.textContent === 'USD has at most 2 decimals.',
      'the problem',
    );
    typeInto(field(r, 'Amount'), '5000');
    await until(
      () => q(r, '[data-testid=payment-problem]')?.textContent?.startsWith('That is more than'),
      'the cap',
    );
    await new Promise((done) => setTimeout(done, 450));
    expect(calls.filter((c) => c.path !== '/v1/payment-requests/terms')).toEqual([]);
    expect(sendButton(r).disabled).toBe(true);
  });

  it('shows the send rules’ refusal from the preview and keeps send disabled', async () => {
    const { r } = form((_m, _p, body) => ({
      status: 200,
      body: previewOf(
        body as { amountMinor: number; description: string },
        allowedCheck('x', {
          allowed: false,
          refusals: [{ code: 'QUIET_HOURS', message: 'It is 22:10 for the customer.', details: null }],
        }),
      ),
    }));
    await until(() => q(r, 'form[aria-label="Request payment"]'), 'the form');
    typeInto(field(r, 'Amount'), '40');
    typeInto(field(r, 'What it is for'), 'Deposit');
    const refusal = await until(() => q(r, '[data-testid=payment-refusal]'), 'the refusal');
    expect(refusal.getAttribute('data-code')).toBe('QUIET_HOURS');
    expect(sendButton(r).disabled).toBe(true);
  });

  it('retries a request whose answer was lost with the same key, and a refused one with a new key', async () => {
    let creates = 0;
    const { r, calls } = form((_m, path, body) => {
      if (path === '/v1/payment-requests/preview')
        return { status: 200, body: previewOf(body as { amountMinor: number; description: string }) };
      creates += 1;
      if (creates === 1) return 'network-down';
      return {
        status: 422,
        body: { error: { code: 'NO_CONSENT', message: 'Not opted in.', details: null } },
      };
    });
    await until(() => q(r, 'form[aria-label="Request payment"]'), 'the form');
    typeInto(field(r, 'Amount'), '40');
    typeInto(field(r, 'What it is for'), 'Deposit');
    await until(() => !sendButton(r).disabled, 'send enabled');
    submit(q(r, 'form'));
    await until(() => q(r, '[data-error-code=NETWORK_ERROR]'), 'the lost answer');
    submit(q(r, 'form'));
    await until(() => q(r, '[data-error-code=NO_CONSENT]'), 'the refusal');
    submit(q(r, 'form'));
    await until(() => creates === 3, 'the third try');
    const keys = calls.filter((c) => c.path === '/v1/payment-requests').map((c) => c.key);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[1]);
    expect(field(r, 'Amount').value).toBe('40');
  });
});

describe('PaymentRequests', () => {
  /** The thread's requests as the contact view shows them, with the live stream driven by the test. */
  function list(answer: (method: string, path: string) => Answer, canChange = true) {
    const relay = fakeRelay((method, path) => answer(method, path));
    const listeners = new Set<PaymentListener>();
    const onTexted = vi.fn();
    function View() {
      const state = usePaymentRequests({
        api: relay.api,
        conversationId: CONVERSATION,
        subscribePayments: (l) => {
          listeners.add(l);
          return () => listeners.delete(l);
        },
        onTexted,
      });
      return <PaymentRequests state={state} canChange={() => canChange} />;
    }
    const r = mount(<View />);
    const push = (p: Payment) => {
      for (const l of listeners) l(p);
    };
    return { r, calls: relay.calls, push, onTexted };
  }

  const card = (r: Element) => q(r, '[data-testid=payment-request]');

  it('shows each change live, down to “Paid” with the card’s brand and last 4 only', async () => {
    const { r, push } = list(() => ({ status: 200, body: { payments: [payment()] } }));
    await until(() => card(r)?.getAttribute('data-status') === 'sent', 'the request');
    expect(q(r, '[data-testid=payment-status]')?.textContent).toBe('Link sent');
    const later = (s: number) => new Date(Date.now() + s * 1000).toISOString();
    push(payment({ status: 'opened', updatedAt: later(1) }));
    await until(() => card(r)?.getAttribute('data-status') === 'opened', 'opened');
    push(
      payment({
        status: 'paid',
        updatedAt: later(3),
        paid: { amountMinor: 12550, currency: 'usd', card: { brand: 'visa', last4: '4242' } },
      }),
    );
    await until(() => card(r)?.getAttribute('data-status') === 'paid', 'paid');
    // A late, older event never moves the card back.
    push(payment({ status: 'checkout_started', updatedAt: later(2) }));
    await new Promise((done) => setTimeout(done, 30));
    expect(card(r)?.getAttribute('data-status')).toBe('paid');
    expect(q(r, '[data-testid=payment-line]')?.textContent).toBe('$125.50 paid by Visa ending 4242.');
    expect(r.querySelectorAll('button').length).toBe(0);
    // Another conversation's request never shows here.
    push(payment({ id: 'b6a1f5c2-2222-4d3e-8f00-000000000009', conversationId: 'elsewhere' }));
    await new Promise((done) => setTimeout(done, 30));
    expect(r.querySelectorAll('[data-testid=payment-request]').length).toBe(1);
  });

  it('cancels only after a confirmation, and sends the one reminder', async () => {
    const { r, calls, onTexted } = list((method, path) => {
      if (method === 'GET') return { status: 200, body: { payments: [payment()] } };
      if (path.endsWith('/remind'))
        return {
          status: 201,
          body: {
            payment: payment({
              remindedAt: new Date().toISOString(),
              updatedAt: new Date(Date.now() + 1000).toISOString(),
            }),
            message: messageFixture({ body: 'Reminder: …' }),
          },
        };
      return {
        status: 200,
        body: {
          payment: payment({ status: 'canceled', updatedAt: new Date(Date.now() + 2000).toISOString() }),
        },
      };
    });
    await until(() => card(r), 'the request');
    const button = (text: string) =>
      [...r.querySelectorAll('button')].find((b) => b.textContent?.trim() === text) as
        | HTMLButtonElement
        | undefined;
    click(button('Send reminder') ?? null);
    await until(() => button('Reminder sent')?.disabled, 'the reminder');
    expect(onTexted).toHaveBeenCalledTimes(1);
    const press = async (text: string) => click(await until(() => button(text), text));
    await press('Cancel request…');
    await press('Keep it');
    await until(() => button('Cancel request…'), 'the request kept');
    expect(calls.some((c) => c.path.endsWith('/cancel'))).toBe(false);
    await press('Cancel request…');
    await press('Cancel request');
    await until(() => card(r)?.getAttribute('data-status') === 'canceled', 'canceled');
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.path.split('/').pop())).toEqual([
      'remind',
      'cancel',
    ]);
  });

  it('offers no changes to a rep who did not ask for the payment, and shows a refusal beside the request', async () => {
    const viewer = list(() => ({ status: 200, body: { payments: [payment()] } }), false);
    await until(() => card(viewer.r), 'the request');
    expect(viewer.r.querySelectorAll('button').length).toBe(0);
    cleanup();
    const refused = list((method) =>
      method === 'GET'
        ? { status: 200, body: { payments: [payment()] } }
        : {
            status: 409,
            body: {
              error: {
                code: 'REMINDER_ALREADY_SENT',
                message: 'A reminder was already sent.',
                details: null,
              },
            },
          },
    );
    await until(() => card(refused.r), 'the request');
    click([...refused.r.querySelectorAll('button')].find((b) => b.textContent === 'Send reminder') ?? null);
    const alert = await until(() => q(refused.r, '[role=alert]'), 'the refusal');
    expect(alert.textContent).toBe('A reminder was already sent.');
    expect(dom.document.body.contains(alert)).toBe(true);
  });
});

describe('a card number texted in', () => {
  it('offers a payment link until a request is made after it', async () => {
    const { unansweredCardText } = await import('../../extension/components/CardNumberOffer.tsx');
    const carded = messageFixture({
      direction: 'inbound',
      body: 'Card: [card number removed]',
      redactions: [{ kind: 'card', start: 6, end: 27, label: '[card number removed]' }],
      createdAt: '2026-01-10T10:00:00.000Z',
    });
    const plain = messageFixture({
      direction: 'inbound',
      body: 'Thanks',
      createdAt: '2026-01-10T11:00:00.000Z',
    });
    expect(unansweredCardText([plain], [])).toBeNull();
    expect(unansweredCardText([carded, plain], [])?.id).toBe(carded.id);
    expect(unansweredCardText([carded], [payment({ createdAt: '2026-01-10T09:00:00.000Z' })])?.id).toBe(
      carded.id,
    );
    expect(unansweredCardText([carded], [payment({ createdAt: '2026-01-10T10:05:00.000Z' })])).toBeNull();
  });
});

describe('a relay without payment links', () => {
  it('shows no error in the thread when the relay has no payment routes or payments are off', async () => {
    for (const [status, code] of [
      [404, 'NOT_FOUND'],
      [503, 'PAYMENTS_NOT_CONFIGURED'],
    ] as const) {
      const relay = fakeRelay(() => ({
        status,
        body: { error: { code, message: 'No route', details: null } },
      }));
      function View() {
        const state = usePaymentRequests({
          api: relay.api,
          conversationId: CONVERSATION,
          subscribePayments: () => () => undefined,
          onTexted: () => undefined,
        });
        return <PaymentRequests state={state} canChange={() => true} />;
      }
      const r = mount(<View />);
      await until(() => relay.calls.length === 1, 'the list request');
      await new Promise((done) => setTimeout(done, 20));
      expect(r.innerHTML).toBe('');
      cleanup();
    }
  });
});
