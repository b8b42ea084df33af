import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyReply, type FastifyServerOptions } from 'fastify';
import { type CrmRegistry, createCrmRegistry } from '../crm-plugins/registry.ts';
import { AnomalyNotices } from './anomalies/alert-notices.ts';
import { CredentialWatch } from './auth/credential-watch.ts';
import { KeyCache } from './auth/key-cache.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { orgCrmsFor } from './crm-sync/org-crms.ts';
import { openVault } from './crypto/vault.ts';
import type { Database } from './db/database.ts';
import { ApiError, envelope } from './errors.ts';
import { accessHook } from './http/access.ts';
import { clientErrorHandler } from './http/client-errors.ts';
import { renderError, requireRouteDeclarations } from './http/error-handler.ts';
import { formBodyParser } from './http/form-body.ts';
import { relayHostHook, sandboxToolHook } from './http/sandbox-guard.ts';
import type { App, Deps } from './http/services.ts';
import { validatorCompiler } from './http/validation.ts';
import { EventHub } from './live/events.ts';
import { Notifier } from './live/notifier.ts';
import { OutgoingMail } from './mail/outgoing.ts';
import { createMailTransport } from './mail/select.ts';
import type { MailTransport } from './mail/transport.ts';
import { HoldAlerts } from './payments/hold-alerts.ts';
import type { Payments } from './payments/payments.ts';
import { SandboxPayments } from './payments/sandbox-payments.ts';
import { createPayments } from './payments/select.ts';
import { SandboxSmsNetwork } from './providers/sandbox-sms.ts';
import type { SmsProvider } from './providers/sms-provider.ts';
import { openApiOptions } from './routes/api-docs.ts';
import { ROUTE_MODULES } from './routes/registry.ts';
import { SendBatcher } from './workers/send-batcher.ts';

export interface BuildOptions {
  config: Config;
  db: Database;
  sms: SmsProvider;
  logger?: FastifyServerOptions['logger'];
  /** Shared with the outbox worker so a send wakes it in-process (runtime.ts). */
  notifier?: Notifier;
  /** The relay's clock (server/clock.ts): compliance and expiry decisions; real time by default. */
  clock?: Clock;
  /** Outgoing mail; by default the one the configuration names (server/mail/select.ts). */
  mail?: MailTransport;
  /** Payment links; by default the provider the configuration names (server/payments/select.ts). */
  payments?: Payments | null;
  /**
   * The installation's own CRM plugins (the sandbox CRM), shared with the CRM sync worker so what
   * it writes shows on the sandbox CRM's pages; by default the ones the configuration names.
   */
  crms?: CrmRegistry;
}

export const BODY_LIMIT_BYTES = 64 * 1024;

/** TRUST_PROXY as Fastify takes it: a hop count trusts the first n hops in front of the relay. */
function proxyTrust(
  trust: Config['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

/** Message texts are sealed at rest under the org data keys this vault unwraps (043_sealed_bodies.sql). */
async function openAppVault(options: BuildOptions): Promise<void> {
  await openVault(options.db, {
    configured: options.config.secretsKey,
    sandbox: options.config.smsProvider === 'sandbox',
    previous: options.config.secretsKeyPrevious ?? [],
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
}

/** Builds the relay's HTTP app without listening, so tests drive it with inject(). */
export async function buildApp(options: BuildOptions): Promise<App> {
  const app: App = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // request.ip is the client's address only when the peers named here are our own proxies.
    trustProxy: proxyTrust(options.config.trustProxy),
    return503OnClosing: true,
    clientErrorHandler,
    // Requests Fastify refuses before routing (bad percent-escapes, over-long parameters)
    // get the same error envelope as everything else.
    frameworkErrors: (error, _request, reply) => {
      const code = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'URL_PARAMETER_TOO_LONG' : 'BAD_URL';
      (reply as FastifyReply).code(error.statusCode ?? 400).send(envelope(code, error.message));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRoute', requireRouteDeclarations);
  app.setValidatorCompiler(validatorCompiler);
  app.decorateRequest('principal', null);

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, formBodyParser);

  await openAppVault(options);
  const hub = new EventHub(options.db, { log: (m) => app.log.error(m) });
  const notifier = options.notifier ?? new Notifier(options.db, { log: (m) => app.log.error(m) });
  notifier.onAnnounce(() => hub.wake());
  const payments =
    options.payments !== undefined
      ? options.payments
      : await createPayments(options.config, options.db, options.clock ?? systemClock, (m) =>
          app.log.error(m),
        );
  const deps = serviceContainer(options, hub, notifier, payments, (m) => app.log.warn(m));
  // The sandbox network calls back through the same HTTP routes a real provider would.
  deps.sandbox?.connect(async ({ path, headers, body }) => {
    const response = await app.inject({ method: 'POST', url: path, headers, payload: body });
    return response.statusCode;
  });
  if (payments !== null) wirePayments(app, payments, deps);

  // Before anything else reads the request: in sandbox mode a foreign Host is a rebound DNS name.
  if (options.config.smsProvider === 'sandbox') app.addHook('onRequest', relayHostHook(options.config));
  app.addHook('onRequest', sandboxToolHook());
  // Org keys are cached briefly per process; any announced credential change empties the cache.
  const keyCache = new KeyCache();
  const keyWatch = new CredentialWatch(options.db);
  keyWatch.observe(() => keyCache.clear());
  app.addHook('onRequest', accessHook(options.db, keyCache, deps.clock));
  app.addHook('onReady', async () => keyWatch.start());
  app.addHook('onReady', async () => hub.start());
  app.addHook('onReady', async () => payments?.start());
  const notices = new AnomalyNotices({ ...deps, publicUrl: options.config.publicUrl, log: app.log });
  app.addHook('onReady', async () => notices.start());
  app.addHook('onClose', async () => {
    await keyWatch.stop();
    await payments?.stop();
    await notices.stop();
    await notifier.close();
    await hub.stop();
    // Mail still on its way goes out before the transport closes under it.
    await deps.outgoingMail.close();
    await deps.mail.close();
  });

  app.setErrorHandler(renderError);

  app.setNotFoundHandler((request, reply) =>
    renderError(
      new ApiError(404, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`),
      request,
      reply,
    ),
  );

  // Registered before the routes so its onRoute hook sees every one of them (GET /openapi.json).
  await app.register(swagger, openApiOptions);
  for (const register of Object.values(ROUTE_MODULES)) register(app, deps);
  return app;
}

/**
 * The payment side's ties to the app: the sandbox provider posts its signed events through the
 * same webhook route Stripe uses, and hold alerts go out by the app's mail transport.
 */
function wirePayments(app: App, payments: Payments, deps: Deps): void {
  if (payments.provider instanceof SandboxPayments) {
    payments.provider.connect(async ({ path, headers, body }) => {
      const response = await app.inject({ method: 'POST', url: path, headers, payload: body });
      return response.statusCode;
    });
  }
  payments.alertHoldsWith(
    new HoldAlerts({
      db: deps.db,
      mail: deps.mail,
      publicUrl: deps.config.publicUrl,
      clock: deps.clock,
      log: app.log,
    }),
  );
}

/** The services every route reaches through `deps` (http/services.ts). */
function serviceContainer(
  options: BuildOptions,
  hub: EventHub,
  notifier: Notifier,
  payments: Payments | null,
  warn: (message: string) => void,
): Deps {
  const mail = options.mail ?? createMailTransport(options.config, options.db);
  return {
    config: options.config,
    db: options.db,
    sms: options.sms,
    sandbox: options.sms instanceof SandboxSmsNetwork ? options.sms : null,
    hub,
    notifier,
    sends: new SendBatcher(options.db),
    crm: orgCrmsFor(options.db, options.config, options.crms ?? installationCrms(options.config), warn),
    clock: options.clock ?? systemClock,
    mail,
    outgoingMail: new OutgoingMail(mail),
    payments,
  };
}

/** The CRM plugins the installation itself provides: the sandbox CRM when CRM_PROVIDER=sandbox. */
export function installationCrms(config: Config): CrmRegistry {
  return createCrmRegistry(config.crmProvider === 'sandbox' ? ['sandbox'] : []);
}
