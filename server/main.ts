import { systemClock } from './clock.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { describeDatabase } from './db/open.ts';
import { DatabaseBusyError } from './db/pglite.ts';
import { demoRecipients, describeHold, firstTextableDemoRecipient } from './demo-recipients.ts';
import { relayLogger } from './logging.ts';
import { issueSetupToken, orgCount } from './organisations/org-admin.ts';
import { storedStripe } from './payments/stripe-connection.ts';
import { type Relay, startRelay } from './runtime.ts';

/** Where `npm start` built the development extensions, for the startup banner. */
export interface ExtensionDirs {
  chrome: string;
  firefox: string;
}

/** Starts one relay process: config → database → app → listen, and shuts down on a signal. */
export async function main(extensionDirs?: ExtensionDirs): Promise<void> {
  const config = configOrExit();
  const relay = await relayOrExit(config);
  await listenOrExit(relay, config);
  console.log((await startupBanner(relay, config, extensionDirs)).join('\n'));
  stopOnSignals(relay);
}

/** The validated configuration; a bad variable ends the process with its one-line explanation. */
function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

/** The started relay; a database that is busy or cannot be reached ends the process with a reason. */
async function relayOrExit(config: Config): Promise<Relay> {
  try {
    return await startRelay(config, { logger: relayLogger(config) });
  } catch (error) {
    if (error instanceof DatabaseBusyError) {
      console.error(`Cannot start: ${error.message}`);
      process.exit(1);
    }
    if (
      config.databaseUrl !== null &&
      error instanceof Error &&
      /ECONNREFUSED|ENOTFOUND|password|does not exist/.test(error.message)
    ) {
      console.error(`DATABASE_URL: cannot connect to ${describeDatabase(config)}: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

/** Listens on HOST:PORT; a port already taken closes the relay and ends the process. */
async function listenOrExit(relay: Relay, config: Config): Promise<void> {
  try {
    await relay.app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    await relay.close();
    if (code === 'EADDRINUSE') {
      console.error(`PORT: ${config.host}:${config.port} is already in use; set PORT to a free port.`);
      process.exit(1);
    }
    throw error;
  }
}

/** What `npm start` prints once listening: where the relay is, the first-run link, the sandbox's pages. */
async function startupBanner(relay: Relay, config: Config, extensionDirs?: ExtensionDirs): Promise<string[]> {
  const lines = [
    '',
    `CRM Texting relay is running at ${config.publicUrl}  (data: ${describeDatabase(config)}, SMS: ${config.smsProvider})`,
  ];
  if (extensionDirs !== undefined) {
    lines.push(
      `  Extension: load ${extensionDirs.chrome} at chrome://extensions (Developer mode → Load unpacked)`,
    );
    lines.push(
      `  Firefox:   load ${extensionDirs.firefox}/manifest.json at about:debugging (This Firefox → Load Temporary Add-on)`,
    );
  }
  if ((await orgCount(relay.db)) === 0) {
    const token = await issueSetupToken(relay.db, systemClock());
    lines.push(
      `  First run: create your organisation at ${config.publicUrl}/setup?token=${token}  (one-time link)`,
    );
  }
  lines.push(`  Admin console:   ${config.publicUrl}/admin  (sign in as an owner or admin)`);
  if (config.smsProvider === 'sandbox') {
    lines.push(`  Phone simulator: ${config.publicUrl}/sandbox/phone`);
    lines.push(`  Sandbox CRM:     ${config.publicUrl}/sandbox/crm`);
    // Without SMTP_URL the sandbox keeps its mail there: every invite and password reset link.
    if (config.mail.smtpUrl === null)
      lines.push(`  Sandbox mail:    ${config.publicUrl}/sandbox/mail  (invite and password reset links)`);
    const payments = config.payments;
    const stripe = payments?.provider === 'connected' ? await storedStripe(relay.db) : null;
    if (stripe !== null)
      lines.push(
        `  Payments:        Stripe, connected with ${stripe.keyHint} (npm run cli -- payments status)`,
      );
    else if (
      payments?.provider === 'sandbox' ||
      (payments?.provider === 'connected' && payments.otherwise === 'sandbox')
    )
      lines.push(
        "  Payments:        sandbox checkout (a payment link's Pay button leads there: pay, decline or let it expire)",
      );
    lines.push(...demoBanner(systemClock()));
  }
  lines.push('  Press Ctrl-C to stop.', '');
  return lines;
}

/** SIGINT/SIGTERM finish in-flight requests and stop; a second signal forces the exit. */
function stopOnSignals(relay: Relay): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      console.error('Forced exit.');
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: finishing in-flight requests and stopping…`);
    relay.close().then(
      () => {
        console.log('Stopped cleanly.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`Shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/**
 * Which demo contact the quick start can text right now, and why the others wait: quiet hours
 * are never relaxed for a demo, so the banner points at a contact whose morning it already is.
 */
export function demoBanner(now: Date): string[] {
  const first = firstTextableDemoRecipient(now);
  const held = demoRecipients(now).filter((r) => !r.textableNow);
  const lines: string[] = [];
  if (first === null) {
    lines.push('  Text now:        no demo contact is inside its sending hours at this moment.');
  } else {
    lines.push(
      `  Text now:        ${first.contact.name} (${first.contact.ref.id}, ${first.phone}), ${first.localTime} where they are (${first.zone})`,
      `                   export TO=${first.phone} REF=${first.contact.ref.id}   # for the README's curl example`,
    );
  }
  // Grouped by when they open, so the usual case is one line: "…wait for 8:00 AM their time".
  const byHold = new Map<string, string[]>();
  for (const r of held)
    byHold.set(describeHold(r), [...(byHold.get(describeHold(r)) ?? []), `${r.contact.name} ${r.localTime}`]);
  for (const [until, names] of byHold) {
    lines.push(`  Quiet hours now: ${names.join(', ')} (texts to them wait for ${until})`);
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
