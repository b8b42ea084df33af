import type { FastifyReply } from 'fastify';

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Tagged template that escapes every interpolated value unless it is already Html. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    const part = Array.isArray(value) ? value.map((v) => render(v)).join('') : render(value);
    out += part + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** Where every server-rendered page gets its one stylesheet (server/routes/page-assets.ts). */
export const PAGES_STYLESHEET = '/assets/pages.css';

/** Sends a complete page, styled by the shared stylesheet, with a strict content security policy. */
export function sendPage(
  reply: FastifyReply,
  title: string,
  body: Html,
  options: { status?: number; script?: string; headers?: Record<string, string> } = {},
) {
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="stylesheet" href="${PAGES_STYLESHEET}"></head>
<body><main>${body}</main>${options.script === undefined ? '' : new Html(`<script src="${escapeHtml(options.script)}"></script>`)}</body></html>`;
  return reply
    .code(options.status ?? 200)
    .header(
      'content-security-policy',
      "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    )
    .headers(options.headers ?? {})
    .header('x-content-type-options', 'nosniff')
    .type('text/html; charset=utf-8')
    .send(page.value);
}
