/**
 * A stateful, contract-faithful Stripe API on 127.0.0.1 (../shared/reference/sdk-contracts.md §5),
 * driven by the real `stripe` SDK: form-encoded bracket keys, Bearer auth, Idempotency-Key replay
 * and `idempotency_error`, Stripe's error envelope, Checkout Sessions (create with the 30 min–24 h
 * expiry rule, retrieve with `expand`, expire), refunds, and signed webhooks (`Stripe-Signature`)
 * sent to the relay. Tests play the customer with complete()/expireNow() and may break it with
 * failNext(). stripe-mock is stateless and cannot fail, hence this fake.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signStripePayload } from '../../server/payments/stripe-signature.ts';

type Obj = Record<string, unknown>;

export interface FakeStripeOptions {
  secretKey: string;
  webhookSecret: string;
  /** The fake's clock (seconds matter: expiry rules and signature timestamps); real time by default. */
  clock?: () => Date;
}

interface Session extends Obj {
  id: string;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'paid' | 'unpaid';
  payment_intent: string | null;
  amount_total: number;
  currency: string;
  metadata: Obj;
}

const id = (prefix: string): string => `${prefix}_${randomBytes(12).toString('hex')}`;

/** `a[b][0][c]=1` pairs into nested objects and arrays, as Stripe reads them. */
export function parseStripeForm(text: string): Obj {
  const root: Obj = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const path = rawKey.replace(/\]/g, '').split('[');
    let node: Obj = root;
    path.forEach((segment, i) => {
      if (i === path.length - 1) {
        node[segment] = value;
        return;
      }
      const nextIsIndex = /^\d+$/.test(path[i + 1] ?? '');
      node[segment] ??= nextIsIndex ? [] : {};
      node = node[segment] as Obj;
    });
  }
  return root;
}

class StripeFault extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

export class FakeStripe {
  readonly sessions = new Map<string, Session>();
  readonly intents = new Map<string, Obj>();
  readonly charges = new Map<string, Obj>();
  readonly refunds: Obj[] = [];
  /** Every request as the SDK sent it: method, path, headers of note, the parsed form. */
  readonly calls: {
    method: string;
    path: string;
    idempotencyKey: string | null;
    version: string | null;
    form: Obj;
  }[] = [];
  private readonly idempotent = new Map<string, { form: string; status: number; body: string }>();
  private failures: { status: number; type: string; message: string }[] = [];
  /** While true, every request answers 503 (an outage). */
  down = false;
  private server: http.Server | null = null;
  url = '';

  constructor(private readonly options: FakeStripeOptions) {}

  private now(): number {
    return Math.floor((this.options.clock?.() ?? new Date()).getTime() / 1000);
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => this.handle(req, body, res));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The next request answers this error instead (500, 429, 402 card_error, …). */
  failNext(status: number, type = 'api_error', message = 'Something went wrong on the fake.'): void {
    this.failures.push({ status, type, message });
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const form = req.method === 'GET' ? parseStripeForm(url.search.slice(1)) : parseStripeForm(body);
    const key = req.headers['idempotency-key'];
    const idempotencyKey = typeof key === 'string' ? key : null;
    this.calls.push({
      method: req.method ?? '',
      path: url.pathname,
      idempotencyKey,
      version: (req.headers['stripe-version'] as string | undefined) ?? null,
      form,
    });
    const send = (status: number, payload: unknown) => {
      const text = JSON.stringify(payload);
      if (idempotencyKey !== null && req.method === 'POST' && status < 500)
        this.idempotent.set(idempotencyKey, { form: body, status, body: text });
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req') });
      res.end(text);
    };
    try {
      if (req.headers.authorization !== `Bearer ${this.options.secretKey}`)
        throw new StripeFault(401, 'invalid_request_error', 'Invalid API Key provided.', 'api_key_invalid');
      if (idempotencyKey !== null && req.method === 'POST') {
        const earlier = this.idempotent.get(idempotencyKey);
        if (earlier !== undefined) {
          if (earlier.form !== body)
            throw new StripeFault(
              400,
              'idempotency_error',
              'Keys for idempotent requests can only be used with the same parameters they were first used with.',
            );
          res.writeHead(earlier.status, {
            'content-type': 'application/json',
            'idempotent-replayed': 'true',
          });
          res.end(earlier.body);
          return;
        }
      }
      if (this.down) throw new StripeFault(503, 'api_error', 'Stripe is unavailable.');
      const failure = this.failures.shift();
      if (failure !== undefined) throw new StripeFault(failure.status, failure.type, failure.message);
      send(200, this.route(req.method ?? 'GET', url.pathname, form));
    } catch (error) {
      if (!(error instanceof StripeFault)) throw error;
      const envelope = { type: error.type, message: error.message, code: error.code, param: error.param };
      send(error.status, { error: envelope });
    }
  }

  private route(method: string, path: string, form: Obj): unknown {
    if (method === 'POST' && path === '/v1/checkout/sessions') return this.createSession(form);
    if (method === 'GET' && path === '/v1/checkout/sessions') return this.listSessions(form);
    const session = /^\/v1\/checkout\/sessions\/([^/]+)(\/expire)?$/.exec(path);
    if (session !== null) {
      const found = this.sessions.get(session[1] ?? '');
      if (found === undefined)
        throw new StripeFault(
          404,
          'invalid_request_error',
          `No such checkout.session: '${session[1]}'`,
          'resource_missing',
          'id',
        );
      if (method === 'POST' && session[2] !== undefined) return this.expire(found);
      if (method === 'GET') return this.expanded(found, form.expand as string[] | undefined);
    }
    if (method === 'POST' && path === '/v1/refunds') return this.refund(form);
    throw new StripeFault(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
  }

  /** A list object, newest first, like Stripe's (limit 1 to 100, default 10). */
  private listSessions(form: Obj): unknown {
    const limit = form.limit === undefined ? 10 : Number(form.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw new StripeFault(
        400,
        'invalid_request_error',
        'Invalid integer: limit',
        'parameter_invalid_integer',
        'limit',
      );
    const all = [...this.sessions.values()].reverse();
    return {
      object: 'list',
      url: '/v1/checkout/sessions',
      has_more: all.length > limit,
      data: all.slice(0, limit),
    };
  }

  private createSession(form: Obj): Session {
    const item = (form.line_items as Obj[] | undefined)?.[0];
    const price = item?.price_data as Obj | undefined;
    const amount = Number(price?.unit_amount);
    if (form.mode !== 'payment')
      throw new StripeFault(
        400,
        'invalid_request_error',
        'mode must be payment here.',
        'parameter_invalid',
        'mode',
      );
    if (price === undefined || !Number.isInteger(amount) || amount < 1)
      throw new StripeFault(
        400,
        'invalid_request_error',
        'Invalid integer: unit_amount',
        'parameter_invalid_integer',
        'line_items[0][price_data][unit_amount]',
      );
    const expiresAt = Number(form.expires_at ?? this.now() + 86_400);
    const lead = expiresAt - this.now();
    if (lead < 1800 || lead > 86_400)
      throw new StripeFault(
        400,
        'invalid_request_error',
        'The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.',
        'parameter_invalid_integer',
        'expires_at',
      );
    if (typeof form.success_url !== 'string')
      throw new StripeFault(
        400,
        'invalid_request_error',
        'Missing required param: success_url.',
        'parameter_missing',
        'success_url',
      );
    const sessionId = id('cs_test');
    const session: Session = {
      id: sessionId,
      object: 'checkout.session',
      mode: 'payment',
      status: 'open',
      payment_status: 'unpaid',
      payment_intent: null,
      amount_total: amount * Number(item?.quantity ?? 1),
      currency: String(price.currency),
      client_reference_id: (form.client_reference_id as string | undefined) ?? null,
      metadata: (form.metadata as Obj | undefined) ?? {},
      expires_at: expiresAt,
      created: this.now(),
      success_url: form.success_url,
      cancel_url: form.cancel_url ?? null,
      url: `${this.url}/pay/${sessionId}`,
      livemode: false,
    };
    this.sessions.set(sessionId, session);
    return session;
  }

  private expanded(session: Session, expand: string[] | undefined): Obj {
    if (!expand?.includes('payment_intent.latest_charge') || session.payment_intent === null) return session;
    const intent = { ...this.intents.get(session.payment_intent) };
    intent.latest_charge = this.charges.get(String(intent.latest_charge)) ?? null;
    return { ...session, payment_intent: intent };
  }

  private expire(session: Session): Session {
    if (session.status !== 'open')
      throw new StripeFault(
        400,
        'invalid_request_error',
        `Only Checkout Sessions with a status in ["open"] can be expired.`,
        'checkout_session_not_open',
      );
    session.status = 'expired';
    session.url = null;
    return session;
  }

  private refund(form: Obj): Obj {
    const intent = this.intents.get(String(form.payment_intent));
    if (intent === undefined)
      throw new StripeFault(
        400,
        'invalid_request_error',
        `No such payment_intent: '${String(form.payment_intent)}'`,
        'resource_missing',
        'payment_intent',
      );
    const charge = this.charges.get(String(intent.latest_charge)) as Obj;
    const left = Number(charge.amount) - Number(charge.amount_refunded);
    const amount = form.amount === undefined ? left : Number(form.amount);
    if (amount > left)
      throw new StripeFault(
        400,
        'invalid_request_error',
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
        'amount_too_large',
        'amount',
      );
    charge.amount_refunded = Number(charge.amount_refunded) + amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    const refund = {
      id: id('re'),
      object: 'refund',
      amount,
      charge: charge.id,
      payment_intent: intent.id,
      status: 'succeeded',
      created: this.now(),
    };
    this.refunds.push(refund);
    return refund;
  }

  /** The customer pays on the hosted page (`async`: a bank debit that settles later). */
  complete(
    sessionId: string,
    card = { brand: 'visa', last4: '4242' },
    options: { async?: boolean; amount?: number } = {},
  ): Session {
    const session = this.sessions.get(sessionId);
    if (session === undefined) throw new Error(`no session ${sessionId}`);
    const intentId = id('pi');
    const chargeId = id('ch');
    const amount = options.amount ?? session.amount_total;
    this.charges.set(chargeId, {
      id: chargeId,
      object: 'charge',
      amount,
      amount_refunded: 0,
      refunded: false,
      currency: session.currency,
      payment_intent: intentId,
      payment_method_details: { type: 'card', card: { brand: card.brand, last4: card.last4 } },
      metadata: {},
    });
    this.intents.set(intentId, {
      id: intentId,
      object: 'payment_intent',
      amount,
      currency: session.currency,
      latest_charge: chargeId,
      metadata: session.metadata,
      status: options.async ? 'processing' : 'succeeded',
    });
    session.status = 'complete';
    session.payment_status = options.async ? 'unpaid' : 'paid';
    session.payment_intent = intentId;
    session.amount_total = amount;
    session.url = null;
    return session;
  }

  /** A Stripe event around an object, as the webhook endpoint receives it. */
  event(type: string, object: Obj): Obj {
    return {
      id: id('evt'),
      object: 'event',
      api_version: '2026-11-18.endive',
      created: this.now(),
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
  }

  /** Delivers an event to the relay's webhook URL, signed as Stripe signs (or with another secret/time). */
  async deliver(
    target: string,
    event: Obj,
    sign: { secret?: string; timestamp?: number } = {},
  ): Promise<{ status: number; body: string }> {
    const raw = Buffer.from(JSON.stringify(event), 'utf8');
    const header = signStripePayload(
      raw,
      sign.secret ?? this.options.webhookSecret,
      sign.timestamp ?? this.now(),
    );
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
      body: raw,
    });
    return { status: response.status, body: await response.text() };
  }
}
