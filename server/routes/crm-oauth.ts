import type { FastifyReply } from 'fastify';
import { type Static, Type } from 'typebox';
import { OAuthStart } from '../../contract/crm.ts';
import { ErrorBody, errorResponses } from '../../contract/errors.ts';
import { HtmlPage, htmlResponse } from '../../contract/pages.ts';
import { CRM_OAUTH } from '../../crm-plugins/registry.ts';
import { completeOAuth, startOAuth } from '../crm-sync/oauth-web.ts';
import { resolveSecretsKey } from '../crypto/secrets.ts';
import { ApiError } from '../errors.ts';
import { principalOf, publicRoute, requires } from '../http/access.ts';
import { html as htmlTemplate, sendPage } from '../http/html.ts';
import type { Deps, RouteModule } from '../http/services.ts';

const CrmParam = Type.Object(
  // Spelled out so the handler's `crm` is typed as the OAuth CRM ids, not `never`.
  { crm: Type.Union([Type.Literal('hubspot'), Type.Literal('salesforce')]) },
  { additionalProperties: false },
);

/** The CRM's refusal or a failed exchange is a page for the admin; a malformed link is the usual error body. */
const refusedPage = {
  description: 'Not connected: a page saying why, or the error envelope for a malformed link',
  content: { 'text/html': { schema: HtmlPage }, 'application/json': { schema: ErrorBody } },
} as const;

/** Connecting HubSpot / Salesforce through their OAuth web flows (issue #6). */
export const crmOAuthRoutes: RouteModule = (app, deps) => {
  const { config, db, clock } = deps;
  app.get(
    '/v1/admin/crm/:crm/oauth/start',
    {
      config: requires('org.manage'),
      schema: {
        summary: 'Start connecting a CRM',
        description: 'The CRM’s OAuth authorize URL for this organisation, with a single-use state.',
        tags: ['crm'],
        params: CrmParam,
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: OAuthStart, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { url, expiresAt } = await startOAuth(db, config, {
        orgId: principal.orgId,
        actor: principal.actor,
        crm: request.params.crm,
        now: clock(),
      });
      return { url, expiresAt: expiresAt.toISOString() };
    },
  );

  app.get(
    '/v1/crm/oauth/:crm/callback',
    {
      config: publicRoute('OAuth redirect from the CRM: the single-use state is the credential'),
      schema: {
        summary: 'CRM OAuth redirect',
        description:
          'Where the CRM sends the admin back: exchanges the code, stores the tokens sealed, and shows a page saying whether the CRM is connected.',
        tags: ['crm'],
        response: { 200: htmlResponse, '4xx': refusedPage, '5xx': ErrorBody },
        params: CrmParam,
        querystring: Type.Object(
          {
            code: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
            state: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
            error: Type.Optional(Type.String({ maxLength: 256 })),
            error_description: Type.Optional(Type.String({ maxLength: 2048 })),
          },
          { additionalProperties: true },
        ),
      },
    },
    (request, reply) => finishOAuth(deps, request.params.crm, request.query, reply),
  );
};

/** The admin is back from the CRM: exchange the code, store the tokens sealed, and say how it went. */
async function finishOAuth(
  { config, db, clock }: Deps,
  crm: Static<typeof CrmParam>['crm'],
  query: { code?: string; state?: string; error?: string },
  reply: FastifyReply,
) {
  const { code, state, error } = query;
  // The admin started here from the console (or the CLI's link); the console's CRM page is the way back.
  const back = `${config.publicUrl}/admin#/crm`;
  const html = (status: number, title: string, detail: string) =>
    sendPage(
      reply,
      title,
      htmlTemplate`<h1>${title}</h1><p>${detail}</p><p><a href="${back}">Back to the admin console</a></p>`,
      { status },
    );
  if (error !== undefined)
    return html(
      400,
      `${CRM_OAUTH[crm].label} not connected`,
      `${CRM_OAUTH[crm].label} did not grant access (${error}).`,
    );
  if (code === undefined || state === undefined)
    return html(400, `${CRM_OAUTH[crm].label} not connected`, 'The link is missing its code or state.');
  const secretsKey = async () => {
    const key = await resolveSecretsKey(db, {
      configured: config.secretsKey,
      sandbox: config.smsProvider === 'sandbox',
    });
    if (key === null)
      throw new ApiError(
        409,
        'SECRETS_KEY_REQUIRED',
        'Set SECRETS_KEY (32 random bytes, base64) so CRM tokens can be stored.',
      );
    return key;
  };
  try {
    await completeOAuth(db, config, secretsKey, { crm, code, state, now: clock() });
  } catch (failure) {
    if (failure instanceof ApiError)
      return html(failure.statusCode, `${CRM_OAUTH[crm].label} not connected`, failure.message);
    throw failure;
  }
  return html(
    200,
    'Connected',
    `${CRM_OAUTH[crm].label} is connected: the console's CRM page shows its sync; install the plugin from there.`,
  );
}
