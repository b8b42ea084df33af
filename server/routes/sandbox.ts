import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { HtmlPage, ScriptFile } from '../../contract/pages.ts';
import { SandboxPhoneState, SandboxSendResult } from '../../contract/sandbox.ts';
import type { Queryable } from '../db/database.ts';
import { publicRoute } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { phoneIn, senderNumberCountry } from '../organisations/org-phone.ts';
import { DEFAULT_COUNTRY } from '../phone.ts';
import type { SandboxSmsNetwork } from '../providers/sandbox-sms.ts';
import { demoContactPage, demoContactsPage, phoneSimulatorPage } from './sandbox-pages.ts';
import { PhoneInput } from './schemas.ts';

const SIMULATOR_JS = fs.readFileSync(
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'sandbox', 'phone-simulator.js'),
  'utf8',
);

/** Loopback only, same-origin JSON writes only: enforced for `sandboxTool` routes by http/sandbox-guard.ts. */
const access = {
  ...publicRoute('sandbox only: the simulated customer phone and demo CRM'),
  sandboxTool: true,
} as const;

/** A text the simulated customer sends: the numbers as typed, read by the relay. */
const HandsetText = Type.Object(
  { handset: PhoneInput, service: PhoneInput, text: Type.String({ minLength: 1, maxLength: 1600 }) },
  { additionalProperties: false },
);

/** Route options of a sandbox HTML page. */
const sandboxPage = (summary: string, description: string) => ({
  config: access,
  schema: { summary, description, tags: ['sandbox'], response: { 200: HtmlPage, ...errorResponses } },
});

/**
 * The phone simulator (play the customer) and the sandbox CRM's contact pages. Registered only
 * when SMS_PROVIDER=sandbox; nothing here exists on a relay wired to a real provider.
 */
export const sandboxRoutes: RouteModule = (app, { sandbox, crm, clock, db }) => {
  if (sandbox === null) return;

  app.get(
    '/sandbox/phone',
    sandboxPage('Phone simulator', 'The page where a person plays the customer’s phone.'),
    async (_request, reply) => phoneSimulatorPage(reply),
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
        querystring: Type.Object({ handset: Type.Optional(PhoneInput) }, { additionalProperties: false }),
        response: { 200: SandboxPhoneState, ...errorResponses },
        'x-error-codes': ['INVALID_PHONE_NUMBER'],
      },
    },
    async (request) => phoneStateOf(sandbox, request.query.handset),
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
        body: HandsetText,
        response: { 202: SandboxSendResult, ...errorResponses },
        'x-error-codes': ['INVALID_PHONE_NUMBER'],
      },
    },
    async (request, reply) => reply.code(202).send(await textFromHandset(db, sandbox, request.body)),
  );

  app.get(
    '/sandbox/crm',
    sandboxPage('Sandbox CRM contacts', 'The demo CRM’s contact list, with each contact’s local time.'),
    async (_request, reply) => demoContactsPage(reply, clock()),
  );

  app.get(
    '/sandbox/crm/contacts/:id',
    {
      config: access,
      schema: {
        summary: 'Sandbox CRM contact',
        description:
          'One demo contact’s record page, with the tasks the panel logged on it and its payment requests.',
        tags: ['sandbox'],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: HtmlPage, 404: HtmlPage, ...errorResponses },
      },
    },
    async (request, reply) => demoContactPage(reply, crm, request.params.id),
  );
};

/**
 * The simulated network's numbers and the typed handset's texts. Which business the phone will
 * text is not known yet, so a national number reads as in the default country.
 */
function phoneStateOf(sandbox: SandboxSmsNetwork, handset: string | undefined) {
  return sandbox.phoneState(handset === undefined ? undefined : phoneIn(DEFAULT_COUNTRY, 'handset', handset));
}

/** The simulated customer texts a relay number; the relay receives it as a signed Plivo webhook. */
async function textFromHandset(
  db: Queryable,
  sandbox: SandboxSmsNetwork,
  body: { handset: string; service: string; text: string },
) {
  const service = phoneIn(DEFAULT_COUNTRY, 'service', body.service);
  // The customer dials as people do in the business's country: its default country reads a national number.
  const handset = phoneIn(await senderNumberCountry(db, service), 'handset', body.handset);
  const result = await sandbox.textFromHandset({ handset, service, text: body.text });
  return { providerMessageId: result.providerMessageId, relayStatus: result.status };
}
