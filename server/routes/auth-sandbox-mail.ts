import { htmlResponse } from '../../contract/pages.ts';
import { publicRoute } from '../http/access.ts';
import { type Html, html, sendPage } from '../http/html.ts';
import type { RouteModule } from '../http/services.ts';
import { recentSandboxMail } from '../mail/transport.ts';

/** Loopback only (http/sandbox-guard.ts): every reset link is on this page. */
const access = {
  ...publicRoute('sandbox only: the mail the relay would have sent'),
  sandboxTool: true,
} as const;

/** The sandbox mailbox: verification and reset links land here. Registered only in sandbox mode. */
export const sandboxMailRoutes: RouteModule = (app, { db, sandbox }) => {
  if (sandbox === null) return;
  app.get(
    '/sandbox/mail',
    {
      config: access,
      schema: {
        summary: 'The sandbox mailbox (sandbox only, loopback only)',
        tags: ['auth'],
        response: { 200: htmlResponse },
      },
    },
    async (_request, reply) => {
      const mails = await recentSandboxMail(db);
      return sendPage(
        reply,
        'Sandbox mail',
        html`<h1>Sandbox mail</h1>
        <p class="muted">Mail the relay sent (newest first). Nothing here left this machine.</p>
        ${mails.length === 0 ? html`<p>No mail yet.</p>` : ''}
        ${mails.map(
          (
            m,
          ) => html`<article><h2>${m.subject}</h2><p class="muted">To ${m.to_address} · ${new Date(m.created_at).toISOString()}</p>
            <pre class="mail-body">${withLinks(m.body)}</pre></article>`,
        )}`,
      );
    },
  );
};

/** A mail's text with its links clickable, as a mail client shows them; everything else escaped. */
export function withLinks(text: string): Html[] {
  const parts: Html[] = [];
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"]+/g)) {
    parts.push(html`${text.slice(last, match.index)}`, html`<a href="${match[0]}">${match[0]}</a>`);
    last = match.index + match[0].length;
  }
  parts.push(html`${text.slice(last)}`);
  return parts;
}
