import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { NoContent } from '../../contract/auth.ts';
import { errorResponses } from '../../contract/errors.ts';
import { pageAnswers, Redirect, ScriptFile } from '../../contract/pages.ts';
import { ApiError } from '../errors.ts';
import { publicRoute } from '../http/access.ts';
import { html, sendPage } from '../http/html.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { requestHeld } from '../payments/payment-guards.ts';
import { formatAmount, LINK_TOKEN } from '../payments/payment-links.ts';
import { readPaymentSettings } from '../payments/payment-settings.ts';
import { isPaid, OPEN_STATUSES } from '../payments/payment-status.ts';
import { type PaymentRequestRow, paymentByTokenHash, updatePayment } from '../payments/payment-store.ts';
import { StripePayments } from '../payments/stripe.ts';

/** The customer's page script: says the page was opened by a browser that runs scripts. */
export const PAYMENT_PAGE_SCRIPT = '/assets/payment-page.js';
const PAYMENT_PAGE_JS = `
// best effort: the page works without it; only the request's "opened" step waits for the next visit
fetch(location.pathname.replace(/\\/$/, '') + '/opened', { method: 'POST' }).catch(() => undefined);
`;

const access = publicRoute('the customer’s payment page: the link’s 128-bit token is the credential');
const tokenParams = Type.Object({ token: Type.String({ maxLength: 64 }) });
const tags = ['payments'];

/** Where Stripe's hosted pages live; the pay form may lead there (and to a local fake in tests). */
function formTargets(deps: Deps): string {
  const provider = deps.payments?.provider;
  if (!(provider instanceof StripePayments)) return "'self'";
  return ["'self'", ...provider.checkoutOrigins()].join(' ');
}

const policy = (forms: string) =>
  `default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action ${forms}`;

/** The request behind a link, or null for a token that is malformed or not ours. */
async function requestOfToken(deps: Deps, token: string): Promise<PaymentRequestRow | null> {
  if (!LINK_TOKEN.test(token) || deps.payments === null) return null;
  return paymentByTokenHash(deps.db, deps.payments.hashOf(token));
}

async function businessOf(deps: Deps, orgId: string): Promise<string> {
  const [org] = await deps.db.query<{ name: string; ident: string | null }>(
    `SELECT name, settings->>'identificationName' AS ident FROM orgs WHERE id = $1`,
    [orgId],
  );
  return (org?.ident ?? '').trim() || (org?.name ?? '');
}

const day = (at: Date) =>
  at.toLocaleDateString('en-US', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });

function notFound(reply: FastifyReply) {
  return sendPage(
    reply,
    'Payment link not found',
    html`<h1>This payment link is not valid</h1>
      <p>Check that the whole link from the text was opened. If it still does not work, reply to the text and ask for a new link.</p>
      <p class="muted">We never ask for card numbers by text.</p>`,
    { status: 404 },
  );
}

/** The page a link opens: who asks, how much, for what, until when; creating nothing. */
async function paymentPage(deps: Deps, reply: FastifyReply, row: PaymentRequestRow, token: string) {
  const business = await businessOf(deps, row.org_id);
  const amount = formatAmount(Number(row.amount_minor), row.currency);
  const now = deps.clock();
  const open = OPEN_STATUSES.includes(row.status) && row.expires_at.getTime() > now.getTime();
  const held = open && (await requestHeld(deps.db, row.id));
  const state = isPaid(row.status)
    ? html`<p role="status" data-state="paid"><strong>Paid. Thank you.</strong></p>`
    : row.status === 'processing'
      ? html`<p role="status" data-state="processing">Your payment is being processed. You can close this page.</p>`
      : held
        ? html`<p role="status" data-state="held">This payment link is paused for a security check. Reply to the text and we will help you pay.</p>`
        : !open
          ? html`<p role="status" data-state="closed">This payment link has ${row.status === 'canceled' ? 'been cancelled' : 'expired'}. Reply to the text if you still need to pay.</p>`
          : html`<form method="post" action="/p/${token}/pay"><button type="submit" data-state="open">Pay ${amount}</button></form>
          <p class="muted">You will enter your card on our payment provider’s secure page.</p>`;
  return sendPage(
    reply,
    `Pay ${business}`,
    html`<h1>${business}</h1>
      <p>Payment request</p>
      <table>
        <tr><th>Amount</th><td data-amount>${amount}</td></tr>
        <tr><th>For</th><td>${row.description}</td></tr>
        ${row.reference === null ? '' : html`<tr><th>Reference</th><td>${row.reference}</td></tr>`}
        <tr><th>Pay by</th><td>${day(row.expires_at)}</td></tr>
      </table>
      ${state}
      <p class="muted"><strong>We never ask for card numbers by text.</strong> If a text asks you for one, do not reply with it.</p>`,
    {
      script: PAYMENT_PAGE_SCRIPT,
      headers: {
        'content-security-policy': policy(formTargets(deps)),
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      },
    },
  );
}

export const paymentPageRoutes: RouteModule = (app, deps) => {
  app.get(
    '/p/:token',
    {
      config: access,
      schema: {
        summary: 'The customer’s payment page',
        description:
          'Shows the business, amount, description, reference and expiry; it creates nothing, so link-preview bots trigger nothing.',
        tags,
        params: tokenParams,
        response: pageAnswers,
      },
    },
    async (request, reply) => {
      const row = await requestOfToken(deps, request.params.token);
      if (row === null) return notFound(reply);
      return paymentPage(deps, reply, row, request.params.token);
    },
  );

  paymentPageActions(app, deps);
  app.get(
    '/p/:token/done',
    {
      config: access,
      schema: {
        summary: 'Back from the provider’s checkout',
        tags,
        params: tokenParams,
        response: pageAnswers,
      },
    },
    async (request, reply) => {
      const row = await requestOfToken(deps, request.params.token);
      if (row === null) return notFound(reply);
      if (isPaid(row.status) || row.status === 'processing')
        return paymentPage(deps, reply, row, request.params.token);
      return sendPage(
        reply,
        'Payment received',
        html`<h1>Thank you</h1><p role="status" data-state="confirming">We are confirming your payment with the provider. You can close this page; the business will see it shortly.</p>`,
        { headers: { 'cache-control': 'no-store' } },
      );
    },
  );

  app.get(
    PAYMENT_PAGE_SCRIPT,
    {
      config: access,
      schema: { summary: 'Payment page script', tags, response: { 200: ScriptFile, ...errorResponses } },
    },
    async (_request, reply) =>
      reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
        .send(PAYMENT_PAGE_JS),
  );
};

/** What the page's script and Pay button post: opened, and off to the provider's checkout. */
const paymentPageActions: RouteModule = (app, deps) => {
  app.post(
    '/p/:token/opened',
    {
      config: access,
      schema: {
        summary: 'The payment page was opened',
        description:
          'Sent by the page’s script, so a browser that shows the page (not a link-preview bot) marks the request opened.',
        tags,
        params: tokenParams,
        response: { 204: NoContent, ...errorResponses },
        'x-error-codes': ['PAYMENT_LINK_NOT_FOUND'],
      },
    },
    async (request, reply) => {
      const row = await requestOfToken(deps, request.params.token);
      if (row === null) throw new ApiError(404, 'PAYMENT_LINK_NOT_FOUND', 'No such payment link.');
      if (row.status === 'sent')
        await deps.db.transaction((tx) => updatePayment(tx, row, { next: 'opened', at: deps.clock() }));
      return reply.code(204).send();
    },
  );

  app.post(
    '/p/:token/pay',
    {
      config: { ...access, formBody: 'the payment page’s Pay button posts a form' },
      schema: {
        summary: 'Go to the provider’s checkout',
        description:
          'Creates (or reuses while open) a checkout at the payment provider with one idempotency key per attempt, and redirects to it.',
        tags,
        params: tokenParams,
        response: { 303: Redirect, ...pageAnswers },
      },
    },
    async (request, reply) => {
      const { token } = request.params;
      const row = await requestOfToken(deps, token);
      if (row === null || deps.payments === null) return notFound(reply);
      const settings = await readPaymentSettings(deps.db, row.org_id);
      const base = `${settings.linkBaseUrl ?? deps.config.publicUrl}/p/${token}`;
      const url = await deps.payments.checkoutFor(row, { success: `${base}/done`, cancel: base });
      if (url === null) {
        const now = (await requestOfToken(deps, token)) ?? row;
        return paymentPage(deps, reply, now, token);
      }
      return reply.code(303).header('location', url).header('cache-control', 'no-store').send(undefined);
    },
  );
};
