import type { FastifyServerOptions } from 'fastify';
import type { CrmRegistry } from '../crm-plugins/registry.ts';
import { AnomalyWorker } from './anomalies/anomaly-worker.ts';
import { preloadIpCountries } from './anomalies/ip-country.ts';
import { buildApp, installationCrms } from './app.ts';
import { runCli } from './cli/main.ts';
import { type CliSocket, listenForCli } from './cli/relay-socket.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { withInstallationCrms } from './crm-sync/live-plugins.ts';
import { CrmSyncWorker } from './crm-sync/sync-worker.ts';
import { ResealWorker } from './crypto/reseal.ts';
import { resolveSecretsKey } from './crypto/secrets.ts';
import type { Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase } from './db/open.ts';
import { TableUpkeepWorker } from './db/table-upkeep.ts';
import type { App } from './http/services.ts';
import { randomToken } from './ids.ts';
import { Notifier } from './live/notifier.ts';
import { PlivoProvider, plivoStatusCallbackUrl } from './providers/plivo.ts';
import { orgPowerpackUuid } from './providers/plivo-org-settings.ts';
import { instanceSecret, SandboxSmsNetwork } from './providers/sandbox-sms.ts';
import type { SmsProvider } from './providers/sms-provider.ts';
import { RetentionWorker } from './retention/retention-worker.ts';
import { ReviewSampler } from './review/review-sampler.ts';
import { OutboxWorker } from './workers/outbox-worker.ts';

/** A relay process's parts, started in order and stopped in reverse. */
export interface Relay {
  app: App;
  db: Database;
  sms: SmsProvider;
  worker: OutboxWorker | null;
  /** Keeps connected CRMs in step (started with the outbox worker; idle when no CRM is connected). */
  crmSync: CrmSyncWorker | null;
  /** Runs each org's retention policy on a timer (started with the outbox worker). */
  retention: RetentionWorker | null;
  close(): Promise<void>;
}

export async function createSmsProvider(
  config: Config,
  db: Database,
  log: (m: string) => void,
): Promise<SmsProvider> {
  switch (config.smsProvider) {
    case 'sandbox': {
      const token = await instanceSecret(db, 'sandbox_webhook_token', () => randomToken(32));
      return new SandboxSmsNetwork(db, token, config.publicUrl, log);
    }
    case 'plivo': {
      if (config.plivo === null) throw new Error('plivo configuration missing');
      return new PlivoProvider({
        ...config.plivo,
        timeoutMs: config.outbox.providerTimeoutMs,
        statusCallbackUrl: plivoStatusCallbackUrl(config.publicUrl),
        powerpackFor: (orgId) => orgPowerpackUuid(db, orgId),
      });
    }
  }
}

/**
 * On embedded PGlite, which one process holds at a time, the relay runs CLI commands for a CLI
 * started beside it (server/cli/relay-socket.ts). A socket that cannot be opened (e.g. a data
 * directory path too long for a Unix socket) costs only that, so it is a warning.
 */
async function cliBesideRelay(config: Config, db: Database, app: App): Promise<CliSocket | null> {
  if (db.kind !== 'pglite') return null;
  try {
    return await listenForCli(
      config.dataDir,
      (argv, streams) => runCli(argv, streams.out, streams.err, streams.input, { db, config }),
      (m) => app.log.warn(m),
    );
  } catch (error) {
    app.log.warn(`The CLI cannot reach this relay (${String(error)}); stop the relay to run CLI commands.`);
    return null;
  }
}

/**
 * The CRM sync worker (unless workers are disabled), started; it shares the installation's own
 * CRM plugins with the app, so the sandbox CRM's pages show what it writes.
 */
async function startCrmSync(
  config: Config,
  db: Database,
  app: App,
  crms: CrmRegistry,
  clock: Clock,
): Promise<CrmSyncWorker | null> {
  const secretsKey = await resolveSecretsKey(db, {
    configured: config.secretsKey,
    sandbox: config.smsProvider === 'sandbox',
    warn: (m) => app.log.warn(m),
  });
  if (!config.workerEnabled) return null;
  const crmSync = new CrmSyncWorker({
    db,
    secretsKey,
    pluginFor: withInstallationCrms(crms),
    consentPollMs: config.crmConsentPollMs,
    clock,
    log: (level, message) => app.log[level](message),
  });
  await crmSync.start();
  return crmSync;
}

/**
 * The relay's housekeeping beside the outbox (unless workers are disabled): judging each hour's
 * sending for anomalies, the daily review sample, re-sealing texts after a key rotation; and, on PGlite only, the table upkeep that
 * PostgreSQL's autovacuum does there.
 */
function startHousekeeping(config: Config, db: Database, clock: Clock, app: App): { stop(): Promise<void> } {
  const log = (level: 'info' | 'warn' | 'error', message: string) => app.log[level](message);
  const anomalies = config.workerEnabled ? new AnomalyWorker({ db, clock, log }) : null;
  const sampler = config.workerEnabled ? new ReviewSampler({ db, clock, log }) : null;
  const upkeep = new TableUpkeepWorker({ db, log });
  const reseal = config.workerEnabled ? new ResealWorker({ db, log }) : null;
  anomalies?.start();
  sampler?.start();
  upkeep.start();
  reseal?.start();
  return {
    async stop() {
      await reseal?.stop();
      await upkeep.stop();
      await sampler?.stop();
      await anomalies?.stop();
    },
  };
}

/**
 * Opens the database, migrates it, builds the app and (unless disabled) starts the outbox
 * worker. `db` may be given by tests that manage their own database.
 */
export async function startRelay(
  config: Config,
  options: {
    logger?: FastifyServerOptions['logger'];
    db?: Database;
    /** The relay's clock (server/clock.ts) for the app and both workers alike. */
    clock?: Clock;
  } = {},
): Promise<Relay> {
  const clock = options.clock ?? systemClock;
  const db = options.db ?? (await openDatabase(config));
  try {
    await migrate(db);
    const sms = await createSmsProvider(config, db, (m) => app.log.warn(m));
    const notifier = new Notifier(db, { log: (m) => app.log.error(m) });
    const crms = installationCrms(config);
    preloadIpCountries();
    const app = await buildApp({ config, db, sms, notifier, clock, crms, logger: options.logger ?? false });
    await app.ready();
    const worker = config.workerEnabled
      ? new OutboxWorker({
          db,
          provider: sms,
          sendRates: config.sendRates,
          leaseMs: config.outbox.leaseMs,
          retryBaseMs: config.outbox.retryBaseMs,
          reconcileAfterMs: config.outbox.reconcileAfterMs,
          accountRequestsPer5s: config.accountRequestsPer5s,
          clock,
          log: (level, message) => app.log[level](message),
        })
      : null;
    if (worker !== null) notifier.onAnnounce(() => worker.wake());
    await worker?.start();
    const crmSync = await startCrmSync(config, db, app, crms, clock);
    const retention = config.workerEnabled
      ? new RetentionWorker({
          db,
          clock,
          intervalMs: config.retentionIntervalMs,
          log: (level, message) => app.log[level](message),
        })
      : null;
    await retention?.start();
    const housekeeping = startHousekeeping(config, db, clock, app);
    const cliSocket = options.db === undefined ? await cliBesideRelay(config, db, app) : null;
    return {
      app,
      db,
      sms,
      worker,
      crmSync,
      retention,
      async close() {
        await cliSocket?.close();
        await housekeeping.stop();
        await retention?.stop();
        await crmSync?.stop();
        await worker?.stop();
        await app.close();
        await sms.close();
        if (options.db === undefined) await db.close();
      },
    };
  } catch (error) {
    // best effort: start-up already failed and that error is rethrown; closing is cleanup only
    if (options.db === undefined) await db.close().catch(() => undefined);
    throw error;
  }
}
