import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SwaggerOptions } from '@fastify/swagger';
import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { type Access, publicRoute } from '../http/access.ts';
import { type OpenApiDoc, renderApiReference } from '../http/api-reference.ts';
import type { RouteModule } from '../http/services.ts';

const PACKAGE = JSON.parse(
  fs.readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'),
    'utf8',
  ),
) as { version: string; description: string };

/** The areas of the API, in the order the reference shows them; every route names one as its tag. */
export const API_TAGS = [
  { name: 'messages', description: 'Send texts, read them back, check a send before making it (preflight).' },
  { name: 'conversations', description: 'Threads between a sender number and a customer phone.' },
  { name: 'contacts', description: 'CRM contact lookup by phone and the contact links the extension keeps.' },
  { name: 'consent', description: 'Opt-ins and opt-outs per customer phone, with their evidence.' },
  { name: 'events', description: 'The live event stream the extension and integrations follow.' },
  { name: 'review', description: 'Inbound texts held for a person to judge, and escalations.' },
  { name: 'reports', description: 'Consent changes, message volume and delivery, compliance incidents.' },
  { name: 'inbox', description: 'Every conversation waiting for a rep, its routing and read state.' },
  { name: 'payments', description: 'Payment links texted to customers, the pages they open, their status.' },
  { name: 'numbers', description: "The organisation's sender numbers." },
  { name: 'auth', description: 'Sign-in: password, passkeys, SAML, second factors, re-authentication.' },
  { name: 'sso', description: 'SAML single sign-on: settings, the IdP round trip, account links.' },
  { name: 'sessions', description: 'Signed-in sessions and their tokens.' },
  { name: 'users', description: 'People in the organisation, their roles and permissions.' },
  { name: 'roles', description: 'Built-in and custom roles and the permissions they grant.' },
  { name: 'api-keys', description: 'Keys for integrations and the extension.' },
  { name: 'audit', description: 'The hash-chained audit log: read it, export it as CSV or JSON lines.' },
  {
    name: 'alerts',
    description: 'Anomaly alerts: hours of sending far above their baseline, and their resolution.',
  },
  { name: 'retention', description: 'Legal holds that keep data out of reach of the retention purge.' },
  { name: 'crm', description: 'CRM connections, OAuth and CRM webhooks.' },
  { name: 'webhooks', description: 'Callbacks from the SMS and payment providers (signed).' },
  {
    name: 'settings',
    description: "The organisation's compliance, identity, retention, payment and alert settings.",
  },
  { name: 'policy', description: 'The texting policy everyone acknowledges before they text, and who has.' },
  {
    name: 'admin',
    description: 'The admin console: a web page for running the organisation, built on this API.',
  },
  { name: 'setup', description: "First-run setup of the relay's organisation." },
  { name: 'health', description: 'Liveness for load balancers.' },
  { name: 'docs', description: 'This reference and the OpenAPI document it is built from.' },
] as const;

/** Who may call a route, as the reference states it. */
export function describeAccess(access: Access | undefined): string {
  if (access === undefined) return 'undeclared';
  if (access.kind === 'permission') return `API key or session with the "${access.permission}" permission`;
  if (access.kind === 'webhook') return `signed ${access.provider} webhook`;
  return `public (${access.reason})`;
}

/**
 * How @fastify/swagger builds the document. Routes under /sandbox are left out: they exist only on
 * a relay started with SMS_PROVIDER=sandbox (loopback-only tools for playing the customer), and an
 * integrator's document should have the same shape whichever provider the relay runs with.
 */
export const openApiOptions: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: { title: 'CRM texting relay', description: PACKAGE.description, version: PACKAGE.version },
    tags: API_TAGS.map((tag) => ({ ...tag })),
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key, or the access token of a signed-in session',
        },
      },
    },
  },
  transform: ({ schema, url, route }) => {
    const config = route.config as { access?: Access; sandboxTool?: boolean } | undefined;
    const access = config?.access;
    const auth = access?.kind === 'permission' ? { security: [{ bearer: [] }] } : { security: [] };
    return {
      schema: {
        ...schema,
        ...auth,
        hide: config?.sandboxTool === true || schema?.hide === true,
        'x-access': describeAccess(access),
      } as typeof schema,
      url,
    };
  },
};

const OpenApiDocument = Type.Object(
  { openapi: Type.String(), info: Type.Object({}, { additionalProperties: true }) },
  { additionalProperties: true, description: 'The OpenAPI 3.1 document of every route of this relay' },
);

/** The OpenAPI document and the reference page built from it. */
export const apiDocsRoutes: RouteModule = (app) => {
  app.get(
    '/openapi.json',
    {
      config: publicRoute('the API description integrators read'),
      schema: {
        summary: 'The OpenAPI document',
        description: 'Generated from the schemas every route declares; it validates as OpenAPI 3.1.',
        tags: ['docs'],
        response: { 200: OpenApiDocument, ...errorResponses },
      },
    },
    async () => app.swagger() as unknown as { openapi: string; info: object },
  );
  app.get(
    '/docs',
    {
      config: publicRoute('the API reference integrators read'),
      schema: {
        summary: 'The API reference',
        description:
          'A readable page built from the OpenAPI document: every area, route, field and error code.',
        tags: ['docs'],
        response: {
          200: {
            description: 'An HTML page',
            content: { 'text/html': { schema: Type.String({ description: 'An HTML page' }) } },
          },
          ...errorResponses,
        },
      },
    },
    async (_request, reply) => renderApiReference(reply, app.swagger() as unknown as OpenApiDoc),
  );
};
