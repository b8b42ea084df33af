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

const STYLE = `
  :root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
  body { margin: 0; background: #f5f7fa; color: #1f2933; }
  main { max-width: 760px; margin: 2rem auto; background: #fff; padding: 2rem; border-radius: 8px;
         box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  h1 { font-size: 1.4rem; margin-top: 0; }
  label { display: block; margin: 1rem 0 .25rem; font-weight: 600; }
  input, textarea, select { font: inherit; padding: .5rem; width: 100%; box-sizing: border-box;
         border: 1px solid #9aa5b1; border-radius: 4px; }
  button { font: inherit; margin-top: 1rem; padding: .5rem 1rem; border: 0; border-radius: 4px;
           background: #0b5cad; color: #fff; cursor: pointer; }
  button:focus-visible, a:focus-visible, input:focus-visible { outline: 3px solid #f0b429; outline-offset: 2px; }
  code, .secret { font-family: ui-monospace, monospace; background: #eef2f7; padding: .1rem .3rem; border-radius: 3px;
         word-break: break-all; }
  .error { color: #a61b1b; } .muted { color: #52606d; } table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; padding: .4rem; border-bottom: 1px solid #e4e7eb; }
`;

/** Sends a complete, self-contained page with a strict content security policy. */
export function sendPage(
  reply: FastifyReply,
  title: string,
  body: Html,
  options: { status?: number; script?: string } = {},
) {
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${new Html(STYLE)}</style></head>
<body><main>${body}</main>${options.script === undefined ? '' : new Html(`<script src="${escapeHtml(options.script)}"></script>`)}</body></html>`;
  return reply
    .code(options.status ?? 200)
    .header(
      'content-security-policy',
      "default-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    )
    .header('x-content-type-options', 'nosniff')
    .type('text/html; charset=utf-8')
    .send(page.value);
}
