import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { HtmlPage, ScriptFile } from '../../contract/pages.ts';
import { SandboxPhoneState, SandboxSendResult } from '../../contract/sandbox.ts';
import { DEMO_CONTACTS, isSandboxCrm } from '../../crm-plugins/sandbox/index.ts';
import { demoRecipients, describeHold } from '../demo-recipients.ts';
import { ApiError } from '../errors.ts';
import { publicRoute } from '../http/access.ts';
import { html, sendPage } from '../http/html.ts';
import type { RouteModule } from '../http/services.ts';
import { checkE164 } from '../phone.ts';
import { SANDBOX_FAILURES } from '../providers/sandbox-sms.ts';
import { E164 } from './schemas.ts';

const SIMULATOR_JS = fs.readFileSync(
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'sandbox', 'phone-simulator.js'),
  'utf8',
);

/** Loopback only, same-origin JSON writes only: enforced for `sandboxTool` routes by http/sandbox-guard.ts. */
const access = {
  ...publicRoute('sandbox only: the simulated customer phone and demo CRM'),
  sandboxTool: true,
} as const;

/** Route options of a sandbox HTML page. */
const sandboxPage = (summary: string, description: string) => ({
  config: access,
  schema: { summary, description, tags: ['sandbox'], response: { 200: HtmlPage, ...errorResponses } },
});

/**
 * The phone simulator (play the customer) and the sandbox CRM's contact pages. Registered only
 * when SMS_PROVIDER=sandbox; nothing here exists on a relay wired to a real provider.
 */
export const sandboxRoutes: RouteModule = (app, { sandbox, crm, clock }) => {
  if (sandbox === null) return;

  app.get(
    '/sandbox/phone',
    sandboxPage('Phone simulator', 'The page where a person plays the customer’s phone.'),
    async (_request, reply) =>
      sendPage(
        reply,
        'Phone simulator',
        html`<h1>Phone simulator</h1>
        <p class="muted">Play the customer: texts the relay sends to a number arrive here; what you type is delivered to the
          relay as an inbound text through the signed webhook, exactly as Plivo would. Try STOP, START and HELP.
          Numbers ending in ${SANDBOX_FAILURES.undelivered} report "undelivered", ${SANDBOX_FAILURES.rejected} are refused.</p>
        <label for="handset">This phone's number</label>
        <input id="handset" list="handsets" placeholder="+12025550143" autocomplete="off">
        <datalist id="handsets"></datalist>
        <label for="service">Texting the business number</label>
        <select id="service"></select>
        <div id="thread" role="log" aria-live="polite" aria-label="Messages on this phone"
             style="margin-top:1rem;border:1px solid #e4e7eb;border-radius:6px;padding:1rem;min-height:12rem;max-height:28rem;overflow:auto;background:#f9fafb"></div>
        <form id="compose">
          <label for="text">Reply</label>
          <textarea id="text" rows="2" maxlength="1600" required></textarea>
          <button type="submit">Send from this phone</button>
          <p id="status" class="muted" role="status"></p>
        </form>`,
        { script: '/sandbox/phone/app.js' },
      ),
  );

  app.get(
    '/sandbox/phone/app.js',
    {
      config: access,
      schema: {
        summary: 'Phone simulator script',
        description: 'The script of the phone simulator page.',
        tags: ['sandbox'],
        response: { 200: ScriptFile, ...errorResponses },
      },
    },
    async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(SIMULATOR_JS),
  );

  app.get(
    '/sandbox/phone/api/state',
    {
      config: access,
      schema: {
        summary: 'Phone simulator state',
        description: 'Sender numbers, handsets that texted lately, and the chosen handset’s texts.',
        tags: ['sandbox'],
        querystring: Type.Object({ handset: Type.Optional(E164) }, { additionalProperties: false }),
        response: { 200: SandboxPhoneState, ...errorResponses },
      },
    },
    async (request) => sandbox.phoneState(request.query.handset),
  );

  app.post(
    '/sandbox/phone/api/send',
    {
      config: access,
      schema: {
        summary: 'Text the relay from a simulated handset',
        description:
          'The simulated customer texts a relay number; the relay receives it as a signed Plivo webhook.',
        tags: ['sandbox'],
        body: Type.Object(
          { handset: E164, service: E164, text: Type.String({ minLength: 1, maxLength: 1600 }) },
          { additionalProperties: false },
        ),
        response: { 202: SandboxSendResult, ...errorResponses },
      },
    },
    async (request, reply) => {
      for (const field of ['handset', 'service'] as const) {
        const check = checkE164(request.body[field]);
        if (!check.ok)
          throw new ApiError(422, 'INVALID_PHONE_NUMBER', `"${field}" ${check.reason}.`, { field });
      }
      const result = await sandbox.textFromHandset({
        handset: request.body.handset,
        service: request.body.service,
        text: request.body.text,
      });
      return reply
        .code(202)
        .send({ providerMessageId: result.providerMessageId, relayStatus: result.status });
    },
  );

  app.get(
    '/sandbox/crm',
    sandboxPage('Sandbox CRM contacts', 'The demo CRM’s contact list, with each contact’s local time.'),
    async (_request, reply) =>
      sendPage(
        reply,
        'Sandbox CRM',
        html`<h1>Sandbox CRM</h1>
        <p class="muted">Demo records. With the extension loaded, open one and the texting panel docks on the right.
        They live in time zones from Guam to London, so quiet hours allow texting one of them at any hour.</p>
        <table><thead><tr><th>Name</th><th>Type</th><th>Phone</th><th>Their time</th><th>Texting</th></tr></thead><tbody>
        ${demoRecipients(clock()).map(
          (r) =>
            html`<tr><td><a href="/sandbox/crm/contacts/${r.contact.ref.id}">${r.contact.name}</a></td><td>${r.contact.ref.objectType}</td><td>${r.phone}</td><td>${r.localTime} (${r.zone})</td><td data-textable="${String(r.textableNow)}">${r.textableNow ? 'open now' : `quiet hours until ${describeHold(r)}`}</td></tr>`,
        )}
        </tbody></table>`,
      ),
  );

  app.get(
    '/sandbox/crm/contacts/:id',
    {
      config: access,
      schema: {
        summary: 'Sandbox CRM contact',
        description: 'One demo contact’s record page, with the tasks the panel logged on it.',
        tags: ['sandbox'],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: HtmlPage, 404: HtmlPage, ...errorResponses },
      },
    },
    async (request, reply) => {
      const contact = DEMO_CONTACTS.find((c) => c.ref.id === request.params.id);
      // Tasks the panel's "Escalate…" logged on the record, as the CRM's own page would list them.
      const plugin = crm.shared.get('sandbox');
      const tasks =
        contact !== undefined && plugin !== null && isSandboxCrm(plugin) ? plugin.followUps(contact.ref) : [];
      if (contact === undefined) {
        return sendPage(
          reply,
          'Not found',
          html`<h1>No such demo contact</h1><p><a href="/sandbox/crm">All contacts</a></p>`,
          {
            status: 404,
          },
        );
      }
      return sendPage(
        reply,
        `${contact.name} · Sandbox CRM`,
        html`<p><a href="/sandbox/crm">← All contacts</a></p>
          <h1 data-contact-id="${contact.ref.id}">${contact.name}</h1>
          <table>
            <tr><th>Record</th><td>${contact.ref.objectType} ${contact.ref.id}</td></tr>
            <tr><th>Phone</th><td>${contact.phones[0] ?? '—'}</td></tr>
            <tr><th>Time zone</th><td>${contact.timeZone ?? 'unknown'}</td></tr>
          </table>
          <h2>Open tasks</h2>
          ${
            tasks.length === 0
              ? html`<p data-tasks="0">None. "Escalate…" in the texting panel adds a call or email task here.</p>`
              : html`<table data-tasks="${tasks.length}"><thead><tr><th>Type</th><th>Subject</th><th>Due</th><th>Details</th></tr></thead><tbody>
              ${tasks.map(
                (t) =>
                  html`<tr><td>${t.kind}</td><td>${t.subject}</td><td>${t.dueAt.toISOString().slice(0, 16).replace('T', ' ')} UTC</td><td><pre>${t.body}</pre></td></tr>`,
              )}</tbody></table>`
          }`,
      );
    },
  );
};
