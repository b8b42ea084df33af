import type { FastifyReply } from 'fastify';
import { type Static, Type } from 'typebox';
import { htmlResponse, pageAnswers } from '../../contract/pages.ts';
import {
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  PASSWORD_MESSAGES,
  passwordProblem,
} from '../auth/passwords.ts';
import { resolveSecretsKey } from '../crypto/secrets.ts';
import { createFirstOrg } from '../first-run.ts';
import { publicRoute } from '../http/access.ts';
import { html, sendPage } from '../http/html.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { setupTokenUsable } from '../organisations/org-admin.ts';
import { COPY_BUTTON_SCRIPT } from './page-assets.ts';

/** The sender number a sandbox installation starts with (reserved 555-01xx range). */
export const SANDBOX_SENDER = '+12025550100';

const access = publicRoute('first-run setup, guarded by a one-time token');

const SetupBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 100 }),
    orgName: Type.String({ minLength: 1, maxLength: 200 }),
    adminEmail: Type.String({ format: 'email', maxLength: 254 }),
    adminPassword: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH * 4 }),
    adminPasswordConfirm: Type.String({ maxLength: MAX_PASSWORD_LENGTH * 4 }),
  },
  { additionalProperties: false },
);

export const setupRoutes: RouteModule = (app, deps) => {
  app.get(
    '/setup',
    {
      config: access,
      schema: {
        summary: 'First-run setup page',
        description:
          'The form that creates the first organisation and its owner; needs the one-time setup token.',
        tags: ['setup'],
        querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 100 })) }),
        response: pageAnswers,
      },
    },
    async (request, reply) => {
      const token = request.query.token ?? '';
      if (!(await setupTokenUsable(deps.db, token, deps.clock()))) return setupLinkNotValid(reply);
      return setupForm(reply, { token, orgName: '', adminEmail: '' }, null);
    },
  );

  app.post(
    '/setup',
    {
      // The first-run page is a plain HTML form; the one-time token in it is what guards the post.
      config: { ...access, formBody: 'the first-run page is a plain HTML form' },
      schema: {
        summary: 'Create the first organisation',
        description:
          'Consumes the one-time setup token, creates the organisation, its owner and an owner API key, shown once on the page.',
        tags: ['setup'],
        response: { ...pageAnswers, 201: htmlResponse },
        body: SetupBody,
      },
    },
    (request, reply) => createOrganisation(deps, reply, request.body),
  );
};

function setupLinkNotValid(reply: FastifyReply) {
  return sendPage(
    reply,
    'Setup link not valid',
    html`<h1>This setup link is not valid</h1>
      <p>It is unknown, already used or expired. If you just created your organisation, it exists: sign in from the
      extension with the email and password you chose. Otherwise restart the relay to print a new link while no
      organisation exists, or create one with <code>npm run cli -- org create --name "Acme"</code>.</p>`,
    { status: 403 },
  );
}

/** The setup form; after a refusal it keeps what was typed (but the passwords) and says why by the field. */
function setupForm(
  reply: FastifyReply,
  values: { token: string; orgName: string; adminEmail: string },
  problem: { field: string; message: string } | null,
) {
  const error = (field: string) =>
    problem?.field === field
      ? html`<p class="field-error" id="${field}-error" role="alert">${problem.message}</p>`
      : '';
  const invalid = (field: string) =>
    problem?.field === field ? html` aria-invalid="true" aria-describedby="${field}-error"` : '';
  return sendPage(
    reply,
    'Set up CRM Texting',
    html`<h1>Set up CRM Texting</h1>
      <p class="muted">Creates your organisation, you as its owner, and your first API key.</p>
      <form method="post" action="/setup">
        <input type="hidden" name="token" value="${values.token}">
        <label for="orgName">Organisation name</label>
        <input id="orgName" name="orgName" required maxlength="200" autocomplete="organization" value="${values.orgName}">
        <label for="adminEmail">Your email</label>
        <input id="adminEmail" name="adminEmail" type="email" required maxlength="254" autocomplete="email"
          value="${values.adminEmail}">
        <label for="adminPassword">Choose a password
          <span class="hint">At least ${String(MIN_PASSWORD_LENGTH)} characters; a passphrase of a few words works well.</span></label>
        <input id="adminPassword" name="adminPassword" type="password" required minlength="${String(MIN_PASSWORD_LENGTH)}"
          maxlength="${String(MAX_PASSWORD_LENGTH)}" autocomplete="new-password"${invalid('adminPassword')}>
        ${error('adminPassword')}
        <label for="adminPasswordConfirm">Type it again</label>
        <input id="adminPasswordConfirm" name="adminPasswordConfirm" type="password" required
          autocomplete="new-password"${invalid('adminPasswordConfirm')}>
        ${error('adminPasswordConfirm')}
        <button type="submit">Create organisation</button>
      </form>`,
    { status: problem === null ? 200 : 422 },
  );
}

/** Creates the first organisation, its owner and an owner key, and shows the key once. */
async function createOrganisation(
  { db, sandbox, config, clock }: Deps,
  reply: FastifyReply,
  body: Static<typeof SetupBody>,
) {
  const { token, orgName, adminEmail, adminPassword, adminPasswordConfirm } = body;
  // The token first (a stranger learns nothing about the policy), then the password, so a weak
  // password does not use up the one-time link.
  // (Also a reload of the result page, which posts the used link again: the page says what to do next.)
  if (!(await setupTokenUsable(db, token, clock()))) return setupLinkNotValid(reply);
  const kept = { token, orgName, adminEmail };
  if (adminPassword !== adminPasswordConfirm)
    return setupForm(reply, kept, {
      field: 'adminPasswordConfirm',
      message: 'The two passwords differ; type the same password twice.',
    });
  const problem = passwordProblem(adminPassword, { email: adminEmail });
  if (problem !== null)
    return setupForm(reply, kept, { field: 'adminPassword', message: PASSWORD_MESSAGES[problem] });
  const passwordHash = await hashPassword(adminPassword);
  // The relay's own demo CRM is connected at once: the sandbox key already exists (the CRM sync
  // worker made it at start), read before the one transaction below.
  const sandboxCrmKey =
    config.crmProvider === 'sandbox'
      ? await resolveSecretsKey(db, { configured: config.secretsKey, sandbox: true })
      : null;
  const result = await createFirstOrg(db, {
    token,
    orgName,
    adminEmail,
    passwordHash,
    now: clock(),
    sandboxSender: sandbox === null ? null : SANDBOX_SENDER,
    sandboxCrmKey,
  });
  return sendPage(
    reply,
    'Organisation created',
    html`<h1>${orgName} is ready</h1>
      <p>Your API key (owner). It is shown <strong>once</strong>; store it now:</p>
      <p><span class="secret" id="api-key">${result.key}</span>
        <button type="button" class="secondary" data-copy="api-key" hidden>Copy key</button>
        <span id="api-key-status" role="status" class="muted"></span></p>
      <ol>
        <li>Finish setting up in the <a href="/admin#/setup">admin console</a>: sign in as <code>${adminEmail}</code>,
          send a test text, install the CRM plugin and choose the compliance defaults. Invite your team there too.</li>
        <li>Load the extension from <code>.output/chrome-mv3-dev</code> (chrome://extensions → Developer mode → Load unpacked).</li>
        <li>In its options, set the relay URL <code>${config.publicUrl}</code> and sign in as <code>${adminEmail}</code>
          with the password you chose (the key is for integrations and scripts: <em>Use an API key instead</em>).</li>
        <li>Or invite your reps from the command line: <code>npm run cli -- user create --org ${result.orgId} --email rep@example.com --role rep</code>
          (or <code>POST /v1/users</code> with this key); each gets a link to choose a password.</li>
        ${
          result.sender === null
            ? html`<li>Add a sender number: <code>npm run cli -- number add --org ${result.orgId} --number +1…</code></li>`
            : html`<li>Your sandbox sender number is <code>${result.sender.e164}</code>. Play the customer in the
                <a href="/sandbox/phone">phone simulator</a>, and open a demo contact in the <a href="/sandbox/crm">sandbox CRM</a>${
                  result.sandboxCrm
                    ? ', which is connected: texts, opt-ins and payments show on its records'
                    : ''
                }.</li>`
        }
      </ol>
      <p class="muted">Organisation id: <code>${result.orgId}</code>. Reloading this page will not show the key again.</p>`,
    { status: 201, script: COPY_BUTTON_SCRIPT, headers: { 'cache-control': 'no-store' } },
  );
}
