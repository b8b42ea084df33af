import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorResponses } from '../../contract/errors.ts';
import { WebhookAck } from '../../contract/webhooks.ts';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import type { Access } from '../http/access.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { type CardReplyLink, receiveInbound } from '../inbound/inbound.ts';
import { applyStatusCallback } from '../inbound/status-callbacks.ts';
import { cardReplyLink } from '../payments/card-reply.ts';
import { normalizePhone } from '../phone.ts';
import { headerValue } from '../providers/plivo-signature.ts';
import { forgetWebhookNoncesOlderThan, rememberWebhookNonce } from '../stores/webhook-nonces.ts';

const webhook: { access: Access; formBody: string } = {
  access: { kind: 'webhook', provider: 'plivo' },
  formBody: 'Plivo posts its webhooks as forms',
};

function formParams(request: FastifyRequest): Record<string, string> {
  const body = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  return body as Record<string, string>;
}

function required(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') {
    throw new ApiError(400, 'MISSING_WEBHOOK_FIELD', `The webhook has no ${name}.`, { field: name });
  }
  return value;
}

/** Route options of a Plivo webhook: signed, answered with an empty body. */
const webhookRoute = (summary: string, description: string) => ({
  config: webhook,
  schema: { summary, description, tags: ['webhooks'], response: { 200: WebhookAck, ...errorResponses } },
});

/** How long a verified nonce is remembered; a replay inside this window is refused. */
export const NONCE_WINDOW_HOURS = 24;

/** The URL the provider called: PUBLIC_URL, or what a trusted reverse proxy says it was. */
function calledUrl(config: Deps['config'], request: FastifyRequest): string {
  if (config.trustProxy !== false) {
    const proto = String(request.headers['x-forwarded-proto'] ?? '')
      .split(',')[0]
      ?.trim();
    const host = String(request.headers['x-forwarded-host'] ?? '')
      .split(',')[0]
      ?.trim();
    if (
      proto !== undefined &&
      host !== undefined &&
      /^https?$/.test(proto) &&
      /^[A-Za-z0-9.:[\]-]+$/.test(host)
    ) {
      return `${proto}://${host}${request.url}`;
    }
  }
  return `${config.publicUrl}${request.url}`;
}

/** The webhook's form fields and nonce, once its signature is verified. */
function verifiedForm(
  { config, sms }: Deps,
  request: FastifyRequest,
): { params: Record<string, string>; nonce: string } {
  const params = formParams(request);
  const ok = sms.verifyWebhook({
    method: 'POST',
    url: calledUrl(config, request),
    headers: request.headers,
    params,
  });
  if (!ok) throw new ApiError(403, 'INVALID_SIGNATURE', 'The webhook signature is missing or wrong.');
  return { params, nonce: headerValue(request.headers, 'x-plivo-signature-v3-nonce') };
}

/** Records the nonce in the caller's transaction, so a failed request can be retried. */
async function claimNonce({ sms }: Deps, tx: Queryable, nonce: string): Promise<void> {
  if (!(await rememberWebhookNonce(tx, sms.name, nonce)))
    throw new ApiError(403, 'REPLAYED_WEBHOOK', 'This webhook was already received (replayed nonce).');
  // Pruning is housekeeping: about one webhook in a hundred does it.
  if (Math.random() < 0.01) await forgetWebhookNoncesOlderThan(tx, NONCE_WINDOW_HOURS);
}

/** The card warning's payment link, when payment links are on. */
function cardReplyLinkOf(deps: Deps): CardReplyLink | undefined {
  const { payments } = deps;
  if (payments === null) return undefined;
  return (tx, at) => cardReplyLink(payments, tx, { ...at, publicUrl: deps.config.publicUrl });
}

/** A text a customer sent to one of the relay's numbers, stored (and judged) once its signature holds. */
async function inboundText(deps: Deps, request: FastifyRequest, reply: FastifyReply) {
  const { params, nonce } = verifiedForm(deps, request);
  const from = normalizePhone(required(params, 'From'));
  const to = normalizePhone(required(params, 'To'));
  if (from === null || to === null) {
    throw new ApiError(400, 'INVALID_PHONE_NUMBER', 'From or To is not a phone number.');
  }
  const outcome = await receiveInbound(
    deps.db,
    {
      provider: deps.sms.name,
      providerMessageId: required(params, 'MessageUUID'),
      from,
      to,
      text: params.Text ?? '',
    },
    {
      now: deps.clock(),
      before: (tx) => claimNonce(deps, tx, nonce),
      cardReplyLink: cardReplyLinkOf(deps),
    },
  );
  if (outcome.kind === 'unassigned') {
    request.log.warn({ to }, 'inbound text to a number no organisation owns; stored as unassigned');
  }
  return reply.code(200).type('text/plain').send('');
}

/** A form field read as a number; empty, missing or not a number reads as null. */
function numberField(params: Record<string, string>, name: string): number | null {
  const raw = params[name];
  if (raw === undefined || raw === '') return null;
  const value = Number(raw);
  return Number.isFinite(value) ? value : null;
}

/** The delivery report's fields as the relay keeps them. */
function deliveryReportOf(provider: string, params: Record<string, string>) {
  const sequence = numberField(params, 'Sequence');
  const units = numberField(params, 'Units');
  return {
    provider,
    providerMessageId: required(params, 'MessageUUID'),
    status: required(params, 'Status'),
    errorCode: params.ErrorCode === undefined || params.ErrorCode === '' ? null : params.ErrorCode,
    sequence: sequence === null ? null : Math.trunc(sequence),
    units: units === null ? null : Math.trunc(units),
    cost: /^\d{1,7}(\.\d{1,5})?$/.test(params.TotalAmount ?? '') ? (params.TotalAmount as string) : null,
  };
}

/** The status of a text the relay sent, applied (or kept until its provider id is recorded). */
async function deliveryReport(deps: Deps, request: FastifyRequest, reply: FastifyReply) {
  const { params, nonce } = verifiedForm(deps, request);
  const outcome = await applyStatusCallback(deps.db, deliveryReportOf(deps.sms.name, params), params, (tx) =>
    claimNonce(deps, tx, nonce),
  );
  if (outcome === 'unknown_message') {
    request.log.warn(
      { providerMessageId: params.MessageUUID },
      'status callback for an unknown message; kept',
    );
  }
  return reply.code(200).type('text/plain').send('');
}

/**
 * Plivo's inbound-message and delivery-report webhooks (the sandbox network speaks the same
 * format). The signature is checked before any field is read or anything is stored.
 */
export const plivoWebhookRoutes: RouteModule = (app, deps) => {
  app.post(
    '/webhooks/plivo/inbound',
    webhookRoute(
      'Plivo inbound text',
      'Plivo (or the sandbox network) posts a text a customer sent to one of the relay’s numbers. Signed with Plivo’s V3 signature; a replayed nonce is refused.',
    ),
    (request, reply) => inboundText(deps, request, reply),
  );

  app.post(
    '/webhooks/plivo/status',
    webhookRoute(
      'Plivo delivery report',
      'Plivo (or the sandbox network) posts the status of a text the relay sent (sent, delivered, undelivered, failed). Signed like the inbound webhook.',
    ),
    (request, reply) => deliveryReport(deps, request, reply),
  );
};
