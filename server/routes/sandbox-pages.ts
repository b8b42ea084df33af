import type { FastifyReply } from 'fastify';
import { DEMO_CONTACTS, isSandboxCrm } from '../../crm-plugins/sandbox/index.ts';
import { demoRecipients, describeHold } from '../demo-recipients.ts';
import { html, sendPage } from '../http/html.ts';
import type { Deps } from '../http/services.ts';
import { SANDBOX_FAILURES } from '../providers/sandbox-sms.ts';

// The sandbox tools' HTML pages: the phone simulator and the demo CRM's contact list and records.

/** The page where a person plays the customer's phone (its script is /sandbox/phone/app.js). */
export function phoneSimulatorPage(reply: FastifyReply) {
  return sendPage(
    reply,
    'Phone simulator',
    html`<h1>Phone simulator</h1>
    <p class="muted">Play the customer: texts the relay sends to a number arrive here; what you type is delivered to the
      relay as an inbound text through the signed webhook, exactly as Plivo would. Try STOP, START and HELP.
      Numbers ending in ${SANDBOX_FAILURES.undelivered} report "undelivered", ${SANDBOX_FAILURES.rejected} are refused.</p>
    <label for="handset">This phone's number</label>
    <input id="handset" type="tel" list="handsets" placeholder="202-555-0143" autocomplete="off">
    <datalist id="handsets"></datalist>
    <label for="service">Texting the business number</label>
    <select id="service"></select>
    <div id="thread" class="phone-thread" role="log" aria-live="polite" aria-label="Messages on this phone"></div>
    <form id="compose">
      <label for="text">Reply</label>
      <textarea id="text" rows="2" maxlength="1600" required></textarea>
      <button type="submit">Send from this phone</button>
      <p id="status" class="muted" role="status"></p>
    </form>`,
    { script: '/sandbox/phone/app.js' },
  );
}

/** The demo CRM's contacts, with each one's local time and whether texting is open now. */
export function demoContactsPage(reply: FastifyReply, now: Date) {
  return sendPage(
    reply,
    'Sandbox CRM',
    html`<h1>Sandbox CRM</h1>
    <p class="muted">Demo records. With the extension loaded, open one and the texting panel docks on the right.
    They live in time zones from Guam to London, so quiet hours allow texting one of them at any hour.</p>
    <table><thead><tr><th>Name</th><th>Type</th><th>Phone</th><th>Their time</th><th>Texting</th></tr></thead><tbody>
    ${demoRecipients(now).map(
      (r) =>
        html`<tr><td><a href="/sandbox/crm/contacts/${r.contact.ref.id}">${r.contact.name}</a></td><td>${r.contact.ref.objectType}</td><td>${r.phone}</td><td>${r.localTime} (${r.zone})</td><td data-textable="${String(r.textableNow)}">${r.textableNow ? 'open now' : `quiet hours until ${describeHold(r)}`}</td></tr>`,
    )}
    </tbody></table>`,
  );
}

/** One demo contact's record page, with the tasks the panel logged on it and its payment requests. */
export function demoContactPage(reply: FastifyReply, crm: Deps['crm'], id: string) {
  const contact = DEMO_CONTACTS.find((c) => c.ref.id === id);
  // Tasks the panel's "Escalate…" logged on the record, as the CRM's own page would list them.
  const plugin = crm.shared.get('sandbox');
  const sandbox = contact !== undefined && plugin !== null && isSandboxCrm(plugin) ? plugin : null;
  const tasks = contact === undefined || sandbox === null ? [] : sandbox.followUps(contact.ref);
  // Payment requests the CRM sync wrote on the record (a sandbox CRM connection of the org).
  const payments = contact === undefined || sandbox === null ? [] : sandbox.payments(contact.ref);
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
      }
      <h2>Payments</h2>
      ${
        payments.length === 0
          ? html`<p data-payments="0">None. A payment request sent by text shows here, with its status.</p>`
          : html`<table data-payments="${payments.length}"><thead><tr><th>Status</th><th>Request</th><th>Details</th></tr></thead><tbody>
          ${payments.map(
            (p) =>
              html`<tr><td data-payment-status="${p.status}">${p.statusLabel}</td><td>${p.title}</td><td><pre>${p.body}</pre></td></tr>`,
          )}</tbody></table>`
      }`,
  );
}
