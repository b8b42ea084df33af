import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.ts';
import type { Access } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import { applyStatusCallback, receiveInbound } from '../messaging/inbound.ts';
import { normalizePhone } from '../phone.ts';

const webhook: { access: Access } = { access: { kind: 'webhook', provider: 'plivo' } };

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

/**
 * Plivo's inbound-message and delivery-report webhooks (the sandbox network speaks the same
 * format). The signature is checked before any field is read or anything is stored.
 */
export const plivoWebhookRoutes: RouteModule = (app, { config, db, sms }) => {
  const verify = (request: FastifyRequest, params: Record<string, string>) => {
    const ok = sms.verifyWebhook({
      method: 'POST',
      url: `${config.publicUrl}${request.url}`,
      headers: request.headers,
      params,
    });
    if (!ok) throw new ApiError(403, 'INVALID_SIGNATURE', 'The webhook signature is missing or wrong.');
  };

  app.post('/webhooks/plivo/inbound', { config: webhook }, async (request, reply) => {
    const params = formParams(request);
    verify(request, params);
    const from = normalizePhone(required(params, 'From'));
    const to = normalizePhone(required(params, 'To'));
    if (from === null || to === null) {
      throw new ApiError(400, 'INVALID_PHONE_NUMBER', 'From or To is not a phone number.');
    }
    const outcome = await receiveInbound(db, {
      provider: sms.name,
      providerMessageId: required(params, 'MessageUUID'),
      from,
      to,
      text: params.Text ?? '',
    });
    if (outcome.kind === 'unassigned') {
      request.log.warn({ to }, 'inbound text to a number no organisation owns; stored as unassigned');
    }
    return reply.code(200).type('text/plain').send('');
  });

  app.post('/webhooks/plivo/status', { config: webhook }, async (request, reply) => {
    const params = formParams(request);
    verify(request, params);
    const sequence = params.Sequence === undefined ? null : Number.parseInt(params.Sequence, 10);
    const outcome = await applyStatusCallback(db, {
      provider: sms.name,
      providerMessageId: required(params, 'MessageUUID'),
      status: required(params, 'Status'),
      errorCode: params.ErrorCode === undefined || params.ErrorCode === '' ? null : params.ErrorCode,
      sequence: sequence !== null && Number.isFinite(sequence) ? sequence : null,
    });
    if (outcome === 'unknown_message') {
      request.log.warn({ providerMessageId: params.MessageUUID }, 'status callback for an unknown message');
    }
    return reply.code(200).type('text/plain').send('');
  });
};
