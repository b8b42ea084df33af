import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type ErrorEnvelope, envelope } from '../errors.ts';
import { html, sendPage } from './html.ts';

/**
 * A person's browser navigating to a page (its Accept header puts text/html first) gets an error
 * page, never raw JSON; API clients, which ask for JSON or anything, keep the error envelope.
 */
export function wantsHtml(request: FastifyRequest): boolean {
  const first = (request.headers.accept ?? '').split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('text/html');
}

function errorPage(reply: FastifyReply, status: number, body: ErrorEnvelope) {
  const title = status >= 500 ? 'Something went wrong' : 'This did not work';
  return sendPage(
    reply,
    title,
    html`<h1>${title}</h1>
      <p class="notice problem">${body.error.message}</p>
      <p class="muted">Error code <code>${body.error.code}</code>. Go back and try again, or ask your administrator
      with this code if it keeps happening.</p>`,
    { status },
  );
}

/**
 * The relay's one error renderer: every refusal, validation failure and unexpected error leaves as the error
 * envelope of DESIGN.md, with a stable code; unexpected errors are logged and told apart from refusals.
 */
export function renderError(error: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply) {
  const { status, envelope: body } = describeError(error, request, reply);
  return wantsHtml(request) ? errorPage(reply, status, body) : reply.code(status).send(body);
}

function describeError(
  error: FastifyError | ApiError,
  request: FastifyRequest,
  reply: FastifyReply,
): { status: number; envelope: ErrorEnvelope } {
  if (error instanceof ApiError) {
    const wait = (error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (typeof wait === 'number') reply.header('retry-after', String(wait));
    return { status: error.statusCode, envelope: envelope(error.code, error.message, error.details) };
  }
  if (error.validation !== undefined) {
    const first = error.validation[0];
    const where = error.validationContext ?? 'request';
    return {
      status: 400,
      envelope: envelope(
        'VALIDATION_FAILED',
        `Invalid ${where}: ${error.message.replace(/^\w+\/?/, '').trim() || 'bad value'}`,
        { in: where, path: first?.instancePath ?? '', rule: first?.keyword, params: first?.params },
      ),
    };
  }
  const status = error.statusCode ?? 500;
  if (status < 500) {
    const codes: Record<string, string> = {
      FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
      FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
      FST_ERR_CTP_EMPTY_JSON_BODY: 'EMPTY_BODY',
      FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
      FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_CONTENT_LENGTH',
    };
    const code =
      codes[error.code] ??
      (error instanceof SyntaxError || /JSON/.test(error.message) ? 'MALFORMED_JSON' : 'BAD_REQUEST');
    return { status, envelope: envelope(code, error.message) };
  }
  request.log.error({ err: error }, 'unhandled error');
  return {
    status: 500,
    envelope: envelope('INTERNAL_ERROR', 'Something went wrong on our side; it has been logged.'),
  };
}

/** A route that declares no access rule is a programming error: the relay refuses to start with it. */
export function requireRouteDeclarations(route: {
  method: string | string[];
  url: string;
  config?: unknown;
}): void {
  const config = route.config as { access?: unknown; sandboxTool?: unknown } | undefined;
  if (config?.access === undefined) {
    throw new Error(`route ${route.method} ${route.url} declares no access rule (config.access)`);
  }
  // The loopback-only guard hangs on this flag, so a /sandbox route without it would be open.
  if (route.url.startsWith('/sandbox') && config.sandboxTool !== true) {
    throw new Error(`route ${route.method} ${route.url} is a sandbox tool but not marked sandboxTool`);
  }
}
