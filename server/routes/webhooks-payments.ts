import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { HtmlPage, ScriptFile } from '../../contract/pages.ts';
import { ApiError } from '../errors.ts';
import { publicRoute } from '../http/access.ts';
import { html, sendPage } from '../http/html.ts';
import type { App, Deps, RouteModule } from '../http/services.ts';
import { enqueuePaymentEvent } from '../payments/payment-events.ts';
import { formatAmount } from '../payments/payment-links.ts';
import { WebhookRejected } from '../payments/payment-provider.ts';
import {
  PAYMENT_WEBHOOK_PATH,
  SANDBOX_CHECKOUT_PATH,
  SandboxPayments,
} from '../payments/sandbox-payments.ts';

const WebhookReceived = Type.Object({
  received: Type.Boolean(),
  duplicate: Type.Boolean({ description: 'This event id was already recorded; nothing changed' }),
});

/**
 * The payment provider's signed events (Stripe, or the sandbox speaking Stripe's format). The
 * signature is checked over the exact raw bytes, so this route reads its body unparsed; the event
 * is stored once and processed from the queue, so the provider's answer never waits on us.
 */
export const paymentWebhookRoutes: RouteModule = (app, deps) => {
  app.register(async (scoped) => {
    scoped.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
    scoped.post(
      PAYMENT_WEBHOOK_PATH,
      {
        config: { access: { kind: 'webhook', provider: 'payments' } },
        schema: {
          summary: 'Payment provider events',
          description:
            'Stripe-Signature (t=…,v1=…: HMAC-SHA256 over "t.rawBody", within 300 s of the relay’s clock, under any configured secret); each event id is recorded once and processed from a queue.',
          tags: ['webhooks'],
          response: { 200: WebhookReceived, ...errorResponses },
          'x-error-codes': ['INVALID_SIGNATURE', 'MALFORMED_WEBHOOK', 'PAYMENTS_NOT_CONFIGURED'],
        },
      },
      async (request) => {
        const payments = deps.payments;
        if (payments === null)
          throw new ApiError(503, 'PAYMENTS_NOT_CONFIGURED', 'Payment links are off on this relay.');
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const now = deps.clock();
        let event: ReturnType<typeof payments.provider.parseWebhook>;
        try {
          event = payments.provider.parseWebhook(raw, request.headers, now);
        } catch (error) {
          if (!(error instanceof WebhookRejected)) throw error;
          if (error.code === 'MALFORMED_EVENT') throw new ApiError(400, 'MALFORMED_WEBHOOK', error.message);
          throw new ApiError(403, 'INVALID_SIGNATURE', error.message, { reason: error.code });
        }
        const fresh = await enqueuePaymentEvent(deps.db, payments.provider.name, event, now);
        payments.wake();
        return { received: true, duplicate: !fresh };
      },
    );
  });
  sandboxCheckoutRoutes(app, deps);
};

const SANDBOX_CHECKOUT_JS = `
for (const button of document.querySelectorAll('button[data-action]')) {
  button.addEventListener('click', async () => {
    const status = document.getElementById('status');
    status.textContent = 'Working…';
    for (const b of document.querySelectorAll('button[data-action]')) b.disabled = true;
    const response = await fetch(location.pathname, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: button.dataset.action }),
    });
    const answer = await response.json();
    if (!response.ok) {
      status.textContent = answer.error ? answer.error.message : 'That did not work.';
      return;
    }
    location.assign(answer.redirect);
  });
}
`;

const params = Type.Object({ id: Type.String({ pattern: '^cs_sandbox_[0-9a-f]{24}$' }) });

/** Loopback callers only, same-origin JSON writes only (http/sandbox-guard.ts). */
const sandboxAccess = {
  ...publicRoute('sandbox only: the pretend payment provider’s checkout'),
  sandboxTool: true,
} as const;

/** The sandbox provider's hosted checkout: play the customer who pays, is declined or walks away. */
const sandboxCheckoutRoutes: RouteModule = (app, deps) => {
  const provider = deps.payments?.provider;
  if (!(provider instanceof SandboxPayments)) return;

  app.get(
    `${SANDBOX_CHECKOUT_PATH}/:id`,
    {
      config: sandboxAccess,
      schema: {
        summary: 'Sandbox checkout page',
        tags: ['sandbox'],
        params,
        response: { 200: HtmlPage, ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await provider.row(request.params.id);
      if (row === undefined) throw new ApiError(404, 'CHECKOUT_NOT_FOUND', 'No such sandbox checkout.');
      const amount = formatAmount(Number(row.amount_minor), row.currency);
      const open = row.status === 'open';
      return sendPage(
        reply,
        `Checkout · ${row.business_name}`,
        html`<h1>Sandbox checkout</h1>
          <p class="muted">This page stands in for Stripe’s hosted checkout. No card is asked for; choose what the customer does.</p>
          <table><tr><th>Pay to</th><td>${row.business_name}</td></tr><tr><th>Amount</th><td>${amount}</td></tr><tr><th>For</th><td>${row.description}</td></tr></table>
          ${
            open
              ? html`<p><button type="button" data-action="pay">Pay ${amount}</button>
                  <button type="button" data-action="decline">Card declined</button>
                  <button type="button" data-action="expire">Let it expire</button></p>`
              : html`<p role="status">This checkout is ${row.status}.</p>`
          }
          <p id="status" role="status" class="muted"></p>`,
        { script: `${SANDBOX_CHECKOUT_PATH}/app.js` },
      );
    },
  );

  sandboxCheckoutAction(app, provider, deps);
  app.get(
    `${SANDBOX_CHECKOUT_PATH}/app.js`,
    {
      config: sandboxAccess,
      schema: {
        summary: 'Sandbox checkout script',
        tags: ['sandbox'],
        response: { 200: ScriptFile, ...errorResponses },
      },
    },
    async (_request, reply) =>
      reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(SANDBOX_CHECKOUT_JS),
  );
};

/** The sandbox checkout's buttons: the customer pays, is declined or lets it lapse. */
function sandboxCheckoutAction(app: App, provider: SandboxPayments, deps: Deps): void {
  app.post(
    `${SANDBOX_CHECKOUT_PATH}/:id`,
    {
      config: sandboxAccess,
      schema: {
        summary: 'Act as the customer on the sandbox checkout',
        tags: ['sandbox'],
        params,
        body: Type.Object(
          { action: Type.Union([Type.Literal('pay'), Type.Literal('decline'), Type.Literal('expire')]) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ redirect: Type.String() }), ...errorResponses },
        'x-error-codes': ['CHECKOUT_NOT_FOUND', 'CHECKOUT_NOT_OPEN'],
      },
    },
    async (request) => {
      const before = await provider.row(request.params.id);
      if (before === undefined) throw new ApiError(404, 'CHECKOUT_NOT_FOUND', 'No such sandbox checkout.');
      if (before.status !== 'open')
        throw new ApiError(409, 'CHECKOUT_NOT_OPEN', `This checkout is ${before.status}.`);
      const after = await provider.act(before.id, request.body.action);
      await deps.payments?.drain();
      return { redirect: after?.payment_status === 'paid' ? after.success_url : before.cancel_url };
    },
  );
}
