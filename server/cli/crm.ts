import type { CrmId, CrmPlugin } from '../../crm-plugins/types.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { systemClock } from '../clock.ts';
import { crmConnectionStatuses, crmStatusText } from '../crm-sync/connection-status.ts';
import {
  type ConnectionSecrets,
  type ConnectionSettings,
  type CrmConnection,
  connectCrm,
  createPlugin,
  getConnection,
  openSecrets,
  setStatus,
} from '../crm-sync/connections.ts';
import { startOAuth } from '../crm-sync/oauth-web.ts';
import type { Database, Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { CLI_ACTOR, type DatabaseCommandIo, requireSecretsKey } from './command.ts';
import { runBackfill } from './crm-backfill.ts';

/** A CLI command as server/cli/main.ts lists it (database commands only). */
interface CrmCommand {
  summary: string;
  usage: string;
  flags: Record<string, { help: string; required?: boolean; value?: boolean }>;
  run(
    db: Database,
    flags: Record<string, string>,
    io: DatabaseCommandIo,
  ): Promise<{ json: Record<string, unknown>; text: string }>;
}

function url(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ApiError(400, 'INVALID_URL', `--${flag} is not a URL: "${value}"`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new ApiError(400, 'INVALID_URL', `--${flag} must be an http(s) URL`);
  return parsed.href.replace(/\/+$/, '');
}

function crmFlag(value: string | undefined): CrmId | null {
  if (value === undefined) return null;
  if (value !== 'hubspot' && value !== 'salesforce')
    throw new ApiError(400, 'INVALID_CRM', `--crm must be hubspot or salesforce, got "${value}"`);
  return value;
}

function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Opens a connection's plugin with the installation's key (warnings go to the command's io). */
function pluginOf(io: DatabaseCommandIo) {
  return async (db: Database, connection: CrmConnection): Promise<CrmPlugin> =>
    createPlugin(connection, openSecrets(await requireSecretsKey(db, io, 'CRM tokens'), connection));
}

function describeConnection(c: CrmConnection): Record<string, unknown> {
  return { connectionId: c.id, orgId: c.orgId, crm: c.crm, status: c.status, settings: c.settings };
}

const connectHelp = {
  org: { help: 'organisation id', required: true, value: true },
};

/** Records an operator's change to a CRM connection in the org's audit log. */
async function auditCrm(
  db: Queryable,
  connection: CrmConnection,
  action: 'crm.installed' | 'crm.uninstalled',
  detail: Record<string, unknown>,
): Promise<void> {
  await appendAudit(db, {
    orgId: connection.orgId,
    actor: CLI_ACTOR,
    action,
    target: { type: 'crm_connection', id: connection.id },
    at: systemClock(),
    detail: { crm: connection.crm, ...detail },
  });
}

/** `crm …` commands: connect (HubSpot, Salesforce, the sandbox CRM), install, uninstall, status, backfill. */
export const CRM_COMMANDS: Record<string, CrmCommand> = {
  'crm connect hubspot': {
    summary: 'Connect HubSpot to an organisation (token stored encrypted)',
    usage:
      'crm connect hubspot --org <orgId> --token <private-app or OAuth access token> [--refresh-token <t> --client-id <id> --client-secret <s>] [--portal-id <id>] [--base-url <url>] [--json]',
    flags: {
      ...connectHelp,
      token: { help: 'private-app token (pat-…) or OAuth access token', required: true, value: true },
      'refresh-token': { help: 'OAuth refresh token (lets the relay renew the access token)', value: true },
      'client-id': { help: 'OAuth app client id', value: true },
      'client-secret': { help: 'OAuth app client secret (also verifies webhooks)', value: true },
      'portal-id': { help: 'HubSpot portal (hub) id, to route webhooks', value: true },
      'base-url': { help: 'API origin (default https://api.hubapi.com)', value: true },
    },
    async run(db, flags, io) {
      const key = await requireSecretsKey(db, io, 'CRM tokens');
      const settings: ConnectionSettings = compact({
        baseUrl: url('base-url', flags['base-url']),
        clientId: flags['client-id'],
        portalId: flags['portal-id'],
      });
      const secrets: ConnectionSecrets = compact({
        accessToken: flags.token ?? '',
        refreshToken: flags['refresh-token'],
        clientSecret: flags['client-secret'],
      });
      const connection = await connectCrm(db, key, {
        orgId: flags.org ?? '',
        crm: 'hubspot',
        settings,
        secrets,
        by: { actor: CLI_ACTOR, at: systemClock() },
      });
      // HubSpot names the portal in each webhook event; a connection without it matches none of them.
      if (settings.portalId === undefined)
        io.err(
          'Warning: without --portal-id, HubSpot webhooks (a contact opting out in HubSpot) cannot be matched to this connection and are ignored; connect again with --portal-id <hub id> (Settings → Account → Hub ID).',
        );
      return {
        json: describeConnection(connection),
        text: `Connected HubSpot to organisation ${connection.orgId} (connection ${connection.id}). Next: crm install hubspot --org ${connection.orgId}`,
      };
    },
  },
  'crm connect salesforce': {
    summary: 'Connect Salesforce to an organisation (tokens stored encrypted)',
    usage:
      'crm connect salesforce --org <orgId> --instance-url <url> --access-token <tok> [--refresh-token <t> --client-id <id> --client-secret <s>] [--login-url <url>] [--json]',
    flags: {
      ...connectHelp,
      'instance-url': { help: 'e.g. https://acme.my.salesforce.com', required: true, value: true },
      'access-token': { help: 'OAuth access token (00D…!…)', required: true, value: true },
      'refresh-token': { help: 'OAuth refresh token (lets the relay renew the access token)', value: true },
      'client-id': { help: 'connected app consumer key', value: true },
      'client-secret': { help: 'connected app consumer secret', value: true },
      'login-url': { help: 'where refresh tokens are exchanged (default: the instance URL)', value: true },
      'api-version': { help: 'REST API version (default 62.0)', value: true },
    },
    async run(db, flags, io) {
      const key = await requireSecretsKey(db, io, 'CRM tokens');
      const version = flags['api-version'];
      if (version !== undefined && !/^\d{2}\.0$/.test(version))
        throw new ApiError(400, 'INVALID_API_VERSION', `--api-version looks like 62.0, got "${version}"`);
      const settings: ConnectionSettings = compact({
        instanceUrl: url('instance-url', flags['instance-url']),
        loginUrl: url('login-url', flags['login-url']),
        clientId: flags['client-id'],
        apiVersion: version,
      });
      const secrets: ConnectionSecrets = compact({
        accessToken: flags['access-token'] ?? '',
        refreshToken: flags['refresh-token'],
        clientSecret: flags['client-secret'],
      });
      const connection = await connectCrm(db, key, {
        orgId: flags.org ?? '',
        crm: 'salesforce',
        settings,
        secrets,
        by: { actor: CLI_ACTOR, at: systemClock() },
      });
      return {
        json: describeConnection(connection),
        text: `Connected Salesforce to organisation ${connection.orgId} (connection ${connection.id}). Next: crm install salesforce --org ${connection.orgId}`,
      };
    },
  },
  'crm connect sandbox': {
    summary: "Connect the sandbox relay's own demo CRM to an organisation (no account needed)",
    usage: 'crm connect sandbox --org <orgId> [--json]',
    flags: connectHelp,
    async run(db, flags, io) {
      // Its records live in the running relay's memory: only a sandbox relay has them to show.
      if (io.config.crmProvider !== 'sandbox')
        throw new ApiError(
          400,
          'SANDBOX_ONLY',
          'The sandbox CRM exists only on a sandbox relay (SMS_PROVIDER=sandbox).',
        );
      const connection = await connectCrm(db, await requireSecretsKey(db, io, 'CRM tokens'), {
        orgId: flags.org ?? '',
        crm: 'sandbox',
        settings: {},
        secrets: { accessToken: 'sandbox' },
        by: { actor: CLI_ACTOR, at: systemClock() },
      });
      return {
        json: describeConnection(connection),
        text: `Connected the sandbox CRM to organisation ${connection.orgId} (connection ${connection.id}): texts, consent and payment requests now reach its records (/sandbox/crm).`,
      };
    },
  },
  ...Object.fromEntries(
    (['hubspot', 'salesforce'] as const).map((crm): [string, CrmCommand] => [
      `crm install ${crm}`,
      {
        summary: `Create the SMS fields in ${crm === 'hubspot' ? 'HubSpot' : 'Salesforce'} (--dry-run lists them)`,
        usage: `crm install ${crm} --org <orgId> [--dry-run] [--json]`,
        flags: {
          org: { help: 'organisation id', required: true, value: true },
          'dry-run': { help: 'only print what would be created', value: false },
        },
        async run(db, flags, io) {
          const connection = await getConnection(db, flags.org ?? '', crm);
          const plugin = await pluginOf(io)(db, connection);
          const plan = await plugin.planInstall();
          if (flags['dry-run'] === 'true') {
            return {
              json: { dryRun: true, plan },
              text: [
                `Install plan for ${plugin.label} (nothing changed):`,
                ...plan.steps.map(
                  (s) => `  ${s.action === 'create' ? 'create' : 'exists'}  ${s.target}  — ${s.description}`,
                ),
              ].join('\n'),
            };
          }
          const report = await plugin.install(plan);
          if (connection.status === 'needs_attention') await setStatus(db, connection.id, 'active', null);
          // Recorded once the CRM said yes: its schema change is not ours to roll back.
          await auditCrm(db, connection, 'crm.installed', {
            created: report.created.length,
            alreadyPresent: report.alreadyPresent.length,
          });
          return {
            json: { dryRun: false, report },
            text: `Installed in ${plugin.label}: ${report.created.length} created, ${report.alreadyPresent.length} already present`,
          };
        },
      },
    ]),
  ),
  'crm uninstall': {
    summary: 'Remove the SMS fields from the CRM and disconnect it (logged history stays)',
    usage: 'crm uninstall --org <orgId> [--crm hubspot|salesforce] [--json]',
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      crm: { help: 'hubspot or salesforce (needed when both are connected)', value: true },
    },
    async run(db, flags, io) {
      const connection = await getConnection(db, flags.org ?? '', crmFlag(flags.crm));
      const plugin = await pluginOf(io)(db, connection);
      const report = await plugin.uninstall();
      await db.transaction(async (tx) => {
        await setStatus(tx, connection.id, 'disconnected', 'uninstalled');
        await auditCrm(tx, connection, 'crm.uninstalled', { removed: report.removed.length });
      });
      return {
        json: { report, status: 'disconnected' },
        text: `Uninstalled from ${plugin.label}: ${report.removed.length} removed, ${report.absent.length} already absent; sync stopped`,
      };
    },
  },
  'crm status': {
    summary: 'Show CRM connections: health, queue depth, dead letters, watermarks',
    usage: 'crm status [--org <orgId>] [--json]',
    flags: { org: { help: 'only this organisation', value: true } },
    async run(db, flags, io) {
      const connections = await crmConnectionStatuses(db, flags.org ?? null, pluginOf(io));
      return { json: { connections }, text: crmStatusText(connections) };
    },
  },
  'crm oauth-url hubspot': {
    summary: 'Print the HubSpot OAuth install URL for an org (single-use, expires in 10 minutes)',
    usage: 'crm oauth-url hubspot --org <orgId> [--json]',
    flags: { org: { help: 'organisation id', required: true, value: true } },
    async run(db, flags, io) {
      const { url, expiresAt } = await startOAuth(db, io.config, {
        orgId: flags.org ?? '',
        actor: 'cli',
        crm: 'hubspot',
        now: systemClock(),
      });
      return {
        json: { url, expiresAt: expiresAt.toISOString() },
        text: `${url}\nOpen it as a HubSpot admin before ${expiresAt.toISOString()} to connect.`,
      };
    },
  },
  'crm oauth-url salesforce': {
    summary: 'Print the Salesforce OAuth install URL for an org (single-use, expires in 10 minutes)',
    usage: 'crm oauth-url salesforce --org <orgId> [--json]',
    flags: { org: { help: 'organisation id', required: true, value: true } },
    async run(db, flags, io) {
      const { url, expiresAt } = await startOAuth(db, io.config, {
        orgId: flags.org ?? '',
        actor: 'cli',
        crm: 'salesforce',
        now: systemClock(),
      });
      return {
        json: { url, expiresAt: expiresAt.toISOString() },
        text: `${url}\nOpen it as a Salesforce admin before ${expiresAt.toISOString()} to connect.`,
      };
    },
  },
  'crm backfill': {
    summary: 'Log existing message history in the CRM (idempotent, resumable)',
    usage: 'crm backfill --org <orgId> [--since <YYYY-MM-DD>] [--crm hubspot|salesforce] [--json]',
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      since: { help: 'only messages from this date (ISO 8601)', value: true },
      crm: { help: 'hubspot or salesforce (needed when both are connected)', value: true },
    },
    async run(db, flags, io) {
      let since: Date | null = null;
      if (flags.since !== undefined) {
        since = new Date(flags.since);
        if (Number.isNaN(since.getTime()))
          throw new ApiError(400, 'INVALID_DATE', `--since is not a date: "${flags.since}"`);
      }
      const connection = await getConnection(db, flags.org ?? '', crmFlag(flags.crm));
      const result = await runBackfill(db, {
        connection,
        secretsKey: await requireSecretsKey(db, io, 'CRM tokens'),
        since,
        progress: (line) => io.err(line),
      });
      return {
        json: result,
        text: `Backfill ${result.resumed ? '(resumed) ' : ''}done: ${result.queued} messages queued, ${result.logged} logged in total, ${result.skipped} without a CRM record, ${result.dead} dead letters`,
      };
    },
  },
};
