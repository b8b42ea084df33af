import { ANOMALY_SETTING_NAMES } from '../anomalies/anomaly-settings.ts';
import { isRole, ROLE_NAMES } from '../auth/permissions.ts';
import { systemClock } from '../clock.ts';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { openVault } from '../crypto/vault.ts';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { openDatabase } from '../db/open.ts';
import { DatabaseBusyError } from '../db/pglite.ts';
import { ApiError } from '../errors.ts';
import { AUTH_SETTING_NAMES } from '../organisations/auth-policy-settings.ts';
import { createKeyForOrg, createOrg, requireOrg } from '../organisations/org-admin.ts';
import {
  NOTIFICATION_PREFERENCES,
  ORG_SETTING_TYPES,
  readOrgSettings,
  setOrgSetting,
} from '../organisations/org-settings-admin.ts';
import { QUIET_HOURS_SETTING_NAMES } from '../organisations/quiet-hours-settings.ts';
import { PAYMENT_SETTING_NAMES } from '../payments/payment-settings.ts';
import { RETENTION_SETTING_NAMES } from '../retention/retention-settings.ts';
import { ALERT_COMMANDS } from './alerts.ts';
import { AUDIT_COMMANDS } from './audit.ts';
import { CLI_ACTOR, type Command, UsageError } from './command.ts';
import { runComplianceLines } from './compliance.ts';
import { CRM_COMMANDS } from './crm.ts';
import { INBOX_COMMANDS } from './inbox.ts';
import { KEYS_COMMANDS } from './keys.ts';
import { NUMBER_COMMANDS } from './numbers.ts';
import { ORG_SETTINGS_USAGE } from './org-settings-help.ts';
import { HOLD_COMMANDS } from './payment-holds.ts';
import { PAYMENT_COMMANDS } from './payments.ts';
import { PEOPLE_COMMANDS } from './people.ts';
import { type CliStreams, forwardToRelay } from './relay-socket.ts';
import { RETENTION_COMMANDS } from './retention.ts';

const COMMANDS: Record<string, Command> = {
  'org create': {
    summary: 'Create an organisation',
    usage: 'org create --name <name> [--json]',
    flags: { name: { help: 'organisation name (1–200 characters)', required: true, value: true } },
    async run(db, flags) {
      const { orgId } = await createOrg(db, flags.name ?? '');
      return { json: { orgId }, text: `Created organisation ${orgId}` };
    },
  },
  'org settings': {
    summary: "Show an organisation's settings, or set or clear one",
    usage: ORG_SETTINGS_USAGE,
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      set: {
        help: `a setting: ${[...Object.keys(ORG_SETTING_TYPES), ...QUIET_HOURS_SETTING_NAMES, ...AUTH_SETTING_NAMES, ...PAYMENT_SETTING_NAMES, ...RETENTION_SETTING_NAMES, ...ANOMALY_SETTING_NAMES].join(', ')}`,
        value: true,
      },
      value: {
        help: `its new value: true/false, a number, text; messageTemplates takes JSON, extensionNotifications ${NOTIFICATION_PREFERENCES.join('/')}`,
        value: true,
      },
      clear: { help: 'a setting to remove (back to its default)', value: true },
    },
    async run(db, flags) {
      const orgId = flags.org ?? '';
      let settings: unknown;
      // The change and its audit entry commit together.
      const by = { actor: CLI_ACTOR, at: systemClock() };
      if (flags.set !== undefined) {
        const { set, value } = flags;
        if (value === undefined) throw new UsageError('--set needs --value');
        settings = await db.transaction((tx) => setOrgSetting(tx, orgId, set, value, by));
      } else if (flags.clear !== undefined) {
        const { clear } = flags;
        settings = await db.transaction((tx) => setOrgSetting(tx, orgId, clear, null, by));
      } else {
        await requireOrg(db, orgId);
        settings = await readOrgSettings(db, orgId);
      }
      return { json: { orgId, settings }, text: JSON.stringify(settings, null, 2) };
    },
  },
  'apikey create': {
    summary: 'Create an API key for an organisation (shown once)',
    usage: `apikey create --org <orgId> --role <${ROLE_NAMES.join('|')}> [--name <label>] [--json]`,
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      role: { help: `one of ${ROLE_NAMES.join(', ')}`, required: true, value: true },
      name: { help: 'a label to recognise the key by', value: true },
    },
    async run(db, flags) {
      const role = flags.role ?? '';
      if (!isRole(role))
        throw new UsageError(`--role must be one of ${ROLE_NAMES.join(', ')}, got "${role}"`);
      const { key, keyId } = await createKeyForOrg(db, {
        orgId: flags.org ?? '',
        role,
        name: flags.name ?? null,
      });
      return {
        json: { key, keyId },
        text: `API key (${role}) — shown once, store it now:\n${key}`,
      };
    },
  },
  ...NUMBER_COMMANDS,
  ...PEOPLE_COMMANDS,
  ...INBOX_COMMANDS,
  ...ALERT_COMMANDS,
  ...PAYMENT_COMMANDS,
  ...HOLD_COMMANDS,
  migrate: {
    summary: 'Apply pending database migrations',
    usage: 'migrate [--json]',
    flags: {},
    async run(db) {
      const result = await migrate(db);
      return {
        json: { applied: result.applied, current: result.current },
        text:
          result.applied.length === 0
            ? `Up to date (${result.current})`
            : `Applied ${result.applied.join(', ')}`,
      };
    },
  },
  'compliance classify': {
    summary: 'Classify inbound texts (JSON lines on stdin) as opt-out, opt-in, help, ambiguous or normal',
    usage: 'compliance classify < lines.jsonl   (each line {"text": "...", "currentlyOptedOut"?: bool})',
    flags: {},
    needsDatabase: false,
    async run(io) {
      await runComplianceLines('classify', io.input, io.out);
      return 0;
    },
  },
  'compliance scan': {
    summary: 'Scan texts (JSON lines on stdin) for card, SSN, bank and health data',
    usage: 'compliance scan < lines.jsonl   (each line {"text": "..."})',
    flags: {},
    needsDatabase: false,
    async run(io) {
      await runComplianceLines('scan', io.input, io.out);
      return 0;
    },
  },
  ...CRM_COMMANDS,
  ...AUDIT_COMMANDS,
  ...RETENTION_COMMANDS,
  ...KEYS_COMMANDS,
};

function helpText(): string {
  const lines = ['Usage: npm run cli -- <command> [flags]', '', 'Commands:'];
  // The summaries line up one column past the longest name, so no name runs into its summary.
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  for (const [name, command] of Object.entries(COMMANDS))
    lines.push(`  ${name.padEnd(width)}${command.summary}`);
  lines.push(
    '',
    'Every command takes --help and --json. The database is DATABASE_URL, or PGlite in DATA_DIR (default ./data).',
  );
  return lines.join('\n');
}

function commandHelp(command: Command): string {
  const lines = [`${command.summary}.`, '', `Usage: npm run cli -- ${command.usage}`, '', 'Flags:'];
  const rows: [string, string][] = [
    ...Object.entries(command.flags).map(([flag, spec]): [string, string] => [
      `--${flag}`,
      `${spec.help}${spec.required ? ' (required)' : ''}`,
    ]),
    ['--json', 'print the result as one JSON object'],
    ['--help', 'show this help'],
  ];
  // Every description starts in one column, two spaces past the longest flag (e.g. --password-stdin).
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  for (const [flag, help] of rows) lines.push(`  ${flag.padEnd(width)}${help}`);
  return lines.join('\n');
}

function parseFlags(
  command: Command,
  args: string[],
): { flags: Record<string, string>; json: boolean; help: boolean } {
  const flags: Record<string, string> = {};
  let json = false;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--json') json = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg.startsWith('--')) {
      const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const spec = command.flags[rawName];
      if (spec === undefined) throw new UsageError(`unknown flag --${rawName}`);
      if (spec.value === false) {
        // A switch (e.g. --dry-run): present means on.
        if (inline !== undefined) throw new UsageError(`--${rawName} takes no value`);
        flags[rawName] = 'true';
        continue;
      }
      const value = inline ?? args[++i];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) {
        throw new UsageError(`--${rawName} needs a value`);
      }
      flags[rawName] = value;
    } else throw new UsageError(`unexpected argument "${arg}"`);
  }
  if (!help) {
    for (const [name, spec] of Object.entries(command.flags)) {
      if (spec.required && flags[name] === undefined) throw new UsageError(`--${name} is required`);
    }
  }
  return { flags, json, help };
}

/** The running relay's own database and configuration, when it runs a command for a CLI beside it. */
export interface InRelay {
  db: Database;
  config: Config;
}

type Fail = (code: string, message: string, exit: number) => number;

/**
 * Runs one CLI command and returns its exit code; output goes only through out and err. A relay
 * passes `inRelay` to run a forwarded command on its own open database (server/cli/relay-socket.ts).
 */
export async function runCli(
  argv: string[],
  out: (s: string) => void,
  err: (s: string) => void,
  input: AsyncIterable<string | Uint8Array> = process.stdin,
  inRelay?: InRelay,
): Promise<number> {
  const wantsJson = argv.includes('--json');
  const fail: Fail = (code, message, exit) => {
    if (wantsJson) out(JSON.stringify({ error: { code, message } }));
    else err(`Error: ${message}`);
    return exit;
  };
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = [words.slice(0, 3).join(' '), words.slice(0, 2).join(' '), words[0] ?? ''].find(
    (n) => n in COMMANDS,
  );
  if (name === undefined) {
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
      out(helpText());
      return 0;
    }
    err(helpText());
    return fail('UNKNOWN_COMMAND', `unknown command "${words.join(' ')}"`, 2);
  }
  const command = COMMANDS[name] as Command;
  const rest = [...argv];
  for (const word of name.split(' ')) rest.splice(rest.indexOf(word), 1);
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(command, rest);
  } catch (error) {
    if (error instanceof UsageError) {
      if (!wantsJson) err(commandHelp(command));
      return fail('USAGE', error.message, 2);
    }
    throw error;
  }
  if (parsed.help) {
    out(commandHelp(command));
    return 0;
  }
  if (command.needsDatabase === false) {
    try {
      return await command.run({ input, out }, parsed.flags);
    } catch (error) {
      return fail('INTERNAL_ERROR', String(error), 1);
    }
  }
  const where = inRelay ?? (await openStandalone(name, argv, { out, err, input }, fail));
  if (typeof where === 'number') return where;
  try {
    const result = await command.run(where.db, parsed.flags, { input, out, err, config: where.config });
    out(parsed.json ? JSON.stringify(result.json) : result.text);
    return 0;
  } catch (error) {
    if (error instanceof ApiError) return fail(error.code, error.message, 1);
    if (error instanceof UsageError) return fail('USAGE', error.message, 2);
    return fail('INTERNAL_ERROR', String(error), 1);
  } finally {
    if (inRelay === undefined) await where.db.close();
  }
}

/**
 * Opens the configured database for a command run in this process. When a relay holds the
 * embedded database, the command is sent to it instead and its exit code is returned.
 */
async function openStandalone(
  name: string,
  argv: string[],
  streams: CliStreams,
  fail: Fail,
): Promise<InRelay | number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) return fail('CONFIG', error.message, 1);
    throw error;
  }
  let db: Database;
  try {
    db = await openDatabase(config);
  } catch (error) {
    if (error instanceof DatabaseBusyError) return forwardOrRefuse(error, argv, streams, fail);
    return fail('DATABASE_UNAVAILABLE', `cannot open the database: ${String(error)}`, 1);
  }
  try {
    if (name !== 'migrate') await migrate(db);
  } catch (error) {
    await db.close();
    return fail('DATABASE_UNAVAILABLE', `cannot migrate the database: ${String(error)}`, 1);
  }
  if (name !== 'migrate') {
    try {
      await openVault(db, {
        configured: config.secretsKey,
        sandbox: config.smsProvider === 'sandbox',
        previous: config.secretsKeyPrevious,
      });
    } catch (error) {
      await db.close();
      return fail('SECRETS_KEY_REQUIRED', `cannot open the key vault: ${String(error)}`, 1);
    }
  }
  return { db, config };
}

/** Hands the command to the relay holding the embedded database, or says why it cannot. */
async function forwardOrRefuse(
  busy: DatabaseBusyError,
  argv: string[],
  streams: CliStreams,
  fail: Fail,
): Promise<number> {
  try {
    const forwarded = await forwardToRelay(busy.dataDir, argv, streams);
    if ('exit' in forwarded) return forwarded.exit;
    return fail(
      'DATABASE_BUSY',
      `${busy.message} That process takes no CLI commands (${forwarded.unreachable}).`,
      1,
    );
  } catch (error) {
    return fail('RELAY_CONNECTION_LOST', `the relay holding ${busy.dataDir}: ${String(error)}`, 1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const code = await runCli(
    process.argv.slice(2),
    (s) => console.log(s),
    (s) => console.error(s),
  );
  process.exitCode = code;
}
