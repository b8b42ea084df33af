import { isIP } from 'node:net';
import path from 'node:path';
import { ConfigError, type Env, millis, nonEmpty, oneOf, parseUrl, rate } from './config-parsers.ts';
import { parseSecretsKey } from './crypto/secrets-key-format.ts';
import { type PaymentConfig, readPaymentConfig } from './payments/payment-config.ts';

export { ConfigError } from './config-parsers.ts';

/** Validated process configuration; read once at start-up. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** ADMIN_DIR: the admin console's build (`npm run build:admin`), served at /admin. */
  adminDir: string;
  databaseUrl: string | null;
  publicUrl: string;
  smsProvider: 'sandbox' | 'plivo';
  plivo: { authId: string; authToken: string; apiUrl: string | null; powerpackUuid: string | null } | null;
  /**
   * Which peers are our own reverse proxies (TRUST_PROXY): false trusts none; a number trusts that
   * many hops in front of the relay; a list trusts those addresses and CIDR ranges. It decides the
   * client address sign-in throttling counts by and whether X-Forwarded-Proto/Host rebuild a
   * webhook's URL.
   */
  trustProxy: false | number | string[];
  /** Outgoing mail: SMTP when smtpUrl is set, else (sandbox only) the /sandbox/mail mailbox. */
  mail: { smtpUrl: string | null; from: string };
  sendRates: { long_code: number; toll_free: number; short_code: number };
  /** Outbox timing: the provider request timeout must stay well inside the lease. */
  outbox: { leaseMs: number; providerTimeoutMs: number; retryBaseMs: number; reconcileAfterMs: number };
  accountRequestsPer5s: number;
  /** The installation-wide demo CRM: sandbox mode only, null with a real SMS provider. */
  crmProvider: 'sandbox' | null;
  /** SECRETS_KEY: 32 bytes that encrypt CRM tokens at rest (sandbox mode generates one if unset; required otherwise). */
  secretsKey: Buffer | null;
  /** SECRETS_KEY_PREVIOUS: earlier master keys, still opening what they sealed until `keys rotate` re-seals it. */
  secretsKeyPrevious: Buffer[];
  /** HUBSPOT_CLIENT_SECRET: verifies HubSpot webhooks when a connection does not carry its own. */
  hubspotClientSecret: string | null;
  /** How often the CRM sync worker asks each CRM for opt-outs made there (CRM_CONSENT_POLL_MS). */
  crmConsentPollMs: number;
  /** OAuth apps for connecting CRMs from the admin UI; null when not configured (issue #6). */
  crmOAuth: { hubspot: CrmOAuthApp | null; salesforce: CrmOAuthApp | null };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** LOG_FORMAT: readable lines for a person at a terminal, or JSON lines for a log collector. */
  logFormat: 'pretty' | 'json';
  workerEnabled: boolean;
  /** Payment links: the provider and its account (server/payments/payment-config.ts); null when off. */
  payments: PaymentConfig;
  /** RETENTION_INTERVAL_MS: how often the retention worker runs each org's policy (hourly by default). */
  retentionIntervalMs: number;
}

/** An OAuth app: HubSpot public app or Salesforce connected app. */
export interface CrmOAuthApp {
  clientId: string;
  clientSecret: string;
  /** HubSpot: the install (authorize) page; Salesforce: the login host. */
  authorizeBase: string;
  /** HubSpot: the API origin (token endpoint); Salesforce: the login host. */
  tokenBase: string;
}

function parsePort(env: Env): number {
  const raw = nonEmpty(env, 'PORT');
  if (raw === undefined) return 8787;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
    throw new ConfigError('PORT', `must be a whole number from 1 to 65535, got "${raw}"`);
  }
  return Number(raw);
}

const PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * TRUST_PROXY: `off`; `on` (one hop, the proxy right in front, as before); a hop count; or a
 * comma-separated list of proxy addresses / CIDR ranges (or loopback, linklocal, uniquelocal).
 * `on` is deliberately not "trust every hop": then a client could name any address it likes in
 * its own X-Forwarded-For, and the sign-in throttle would count it under that name.
 */
function parseTrustProxy(raw: string | undefined): Config['trustProxy'] {
  if (raw === undefined || raw === 'off') return false;
  if (raw === 'on') return 1;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops < 1 || hops > 10)
      throw new ConfigError('TRUST_PROXY', `must be a hop count from 1 to 10, got "${raw}"`);
    return hops;
  }
  const entries = raw.split(',').map((e) => e.trim());
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const prefixOk =
      prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
    if (!PROXY_KEYWORDS.includes(entry) && (family === 0 || !prefixOk || extra !== undefined)) {
      throw new ConfigError(
        'TRUST_PROXY',
        `must be off, on, a hop count, or proxy addresses/CIDR ranges separated by commas; "${entry}" is none of these`,
      );
    }
  }
  return entries;
}

/** PORT and HOST: where the relay listens. */
function readListen(env: Env): Pick<Config, 'port' | 'host'> {
  const port = parsePort(env);
  const host = nonEmpty(env, 'HOST') ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(host)) {
    throw new ConfigError('HOST', `is not a host name or address: "${host}"`);
  }
  return { port, host };
}

/** Where `npm run build:admin` puts the admin console: .output/admin beside the relay's code. */
const ADMIN_BUILD_DIR = path.resolve(import.meta.dirname, '..', '.output', 'admin');

/** DATABASE_URL (PostgreSQL) or, when unset, the embedded database under DATA_DIR. */
function readStorage(env: Env, cwd: string): Pick<Config, 'databaseUrl' | 'dataDir' | 'adminDir'> {
  const databaseRaw = nonEmpty(env, 'DATABASE_URL');
  const databaseUrl =
    databaseRaw === undefined
      ? null
      : parseUrl('DATABASE_URL', databaseRaw, ['postgres:', 'postgresql:']).href;
  return {
    databaseUrl,
    dataDir: path.resolve(cwd, nonEmpty(env, 'DATA_DIR') ?? 'data'),
    adminDir: path.resolve(cwd, nonEmpty(env, 'ADMIN_DIR') ?? ADMIN_BUILD_DIR),
  };
}

/** PUBLIC_URL: the address users and webhooks reach the relay at; defaults to the listen address. */
function readPublicUrl(env: Env, { port, host }: Pick<Config, 'port' | 'host'>): URL {
  const displayHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const publicRaw = nonEmpty(env, 'PUBLIC_URL') ?? `http://${displayHost}:${port}`;
  const publicUrl = parseUrl('PUBLIC_URL', publicRaw, ['http:', 'https:']);
  if (publicUrl.search !== '' || publicUrl.hash !== '') {
    throw new ConfigError('PUBLIC_URL', `must not have a query or fragment, got "${publicRaw}"`);
  }
  return publicUrl;
}

/** PLIVO_*: the Plivo account, required (with an explicit PUBLIC_URL) when SMS_PROVIDER=plivo. */
function readPlivo(env: Env): NonNullable<Config['plivo']> {
  const authId = nonEmpty(env, 'PLIVO_AUTH_ID');
  const authToken = nonEmpty(env, 'PLIVO_AUTH_TOKEN');
  if (authId === undefined) throw new ConfigError('PLIVO_AUTH_ID', 'is required when SMS_PROVIDER=plivo');
  if (!/^[A-Z0-9]{10,40}$/.test(authId))
    throw new ConfigError('PLIVO_AUTH_ID', 'does not look like a Plivo Auth ID');
  if (authToken === undefined)
    throw new ConfigError('PLIVO_AUTH_TOKEN', 'is required when SMS_PROVIDER=plivo');
  if (nonEmpty(env, 'PUBLIC_URL') === undefined) {
    throw new ConfigError(
      'PUBLIC_URL',
      'is required when SMS_PROVIDER=plivo: the https URL Plivo calls back',
    );
  }
  const apiRaw = nonEmpty(env, 'PLIVO_API_URL');
  return {
    authId,
    authToken,
    apiUrl:
      apiRaw === undefined
        ? null
        : parseUrl('PLIVO_API_URL', apiRaw, ['http:', 'https:']).href.replace(/\/$/, ''),
    powerpackUuid: nonEmpty(env, 'PLIVO_POWERPACK_UUID') ?? null,
  };
}

/** SMS_PROVIDER and, for Plivo, its account. */
function readSmsProvider(env: Env): Pick<Config, 'smsProvider' | 'plivo'> {
  const smsProvider = oneOf(env, 'SMS_PROVIDER', ['sandbox', 'plivo'] as const, 'sandbox');
  return { smsProvider, plivo: smsProvider === 'plivo' ? readPlivo(env) : null };
}

/** SEND_RATE_* per sender kind and the account-wide PROVIDER_REQUESTS_PER_5S. */
function readSendRates(env: Env): Pick<Config, 'sendRates' | 'accountRequestsPer5s'> {
  return {
    sendRates: {
      long_code: rate(env, 'SEND_RATE_LONG_CODE', 1),
      toll_free: rate(env, 'SEND_RATE_TOLL_FREE', 3),
      short_code: rate(env, 'SEND_RATE_SHORT_CODE', 30),
    },
    accountRequestsPer5s: rate(env, 'PROVIDER_REQUESTS_PER_5S', 300, 'requests per 5 seconds'),
  };
}

/** SMTP_URL (required outside the sandbox) and MAIL_FROM (defaults to no-reply at the public host). */
function readMail(env: Env, smsProvider: Config['smsProvider'], publicUrl: URL): Config['mail'] {
  const smtpRaw = nonEmpty(env, 'SMTP_URL');
  if (smtpRaw === undefined && smsProvider !== 'sandbox') {
    throw new ConfigError(
      'SMTP_URL',
      `is required when SMS_PROVIDER=${smsProvider}: invites and password resets send their links by mail (smtp://user:pass@host:587 or smtps://…)`,
    );
  }
  const smtpUrl = smtpRaw === undefined ? null : parseUrl('SMTP_URL', smtpRaw, ['smtp:', 'smtps:']).href;
  const from = nonEmpty(env, 'MAIL_FROM') ?? `CRM Texting <no-reply@${publicUrl.hostname}>`;
  if (!/^[^\r\n]*@[^\r\n]*$/.test(from) || from.length > 320) {
    throw new ConfigError(
      'MAIL_FROM',
      `must be one address such as "CRM Texting <no-reply@example.com>", got "${from}"`,
    );
  }
  return { smtpUrl, from };
}

/** OUTBOX_* and PROVIDER_TIMEOUT_MS: a provider request must time out well inside the lease. */
function readOutbox(env: Env): Config['outbox'] {
  const outbox = {
    leaseMs: millis(env, 'OUTBOX_LEASE_MS', 30_000, 1000, 600_000),
    providerTimeoutMs: millis(env, 'PROVIDER_TIMEOUT_MS', 10_000, 100, 120_000),
    retryBaseMs: millis(env, 'OUTBOX_RETRY_BASE_MS', 1000, 10, 600_000),
    reconcileAfterMs: millis(env, 'OUTBOX_RECONCILE_AFTER_MS', 5000, 10, 600_000),
  };
  if (outbox.providerTimeoutMs * 2 >= outbox.leaseMs) {
    throw new ConfigError(
      'OUTBOX_LEASE_MS',
      `must be more than twice PROVIDER_TIMEOUT_MS (${outbox.providerTimeoutMs})`,
    );
  }
  return outbox;
}

/**
 * CRM_PROVIDER: the installation-wide demo CRM. The sandbox CRM's demo contacts are fiction: a
 * relay texting real phones must not offer them as recipients (issue #13, finding 14).
 */
function readDemoCrm(env: Env, smsProvider: Config['smsProvider']): Config['crmProvider'] {
  const crmRaw = oneOf(env, 'CRM_PROVIDER', ['sandbox'] as const, 'sandbox');
  if (smsProvider !== 'sandbox' && nonEmpty(env, 'CRM_PROVIDER') !== undefined) {
    throw new ConfigError(
      'CRM_PROVIDER',
      `the sandbox CRM exists only with SMS_PROVIDER=sandbox; unset CRM_PROVIDER (SMS_PROVIDER is ${smsProvider}). Connect HubSpot or Salesforce per organisation instead`,
    );
  }
  return smsProvider === 'sandbox' ? crmRaw : null;
}

/**
 * SECRETS_KEY. Only the sandbox may generate a key and keep it beside the data it seals; a real
 * relay without one would store CRM tokens it cannot open and answer every second-factor
 * enrolment with 503.
 */
function readSecretsKey(env: Env, smsProvider: Config['smsProvider']): Config['secretsKey'] {
  const secretsRaw = nonEmpty(env, 'SECRETS_KEY');
  const secretsKey = secretsRaw === undefined ? null : parseSecretsKey(secretsRaw);
  if (secretsRaw !== undefined && secretsKey === null) {
    throw new ConfigError(
      'SECRETS_KEY',
      'must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)',
    );
  }
  if (smsProvider !== 'sandbox' && secretsKey === null) {
    throw new ConfigError(
      'SECRETS_KEY',
      `is required when SMS_PROVIDER=${smsProvider}: it seals CRM tokens and second-factor secrets. Generate one with \`openssl rand -base64 32\` and keep it apart from the database`,
    );
  }
  return secretsKey;
}

/**
 * SECRETS_KEY_PREVIOUS: master keys SECRETS_KEY replaced (comma-separated), kept only so what they
 * sealed still opens until `keys rotate` has re-sealed it under SECRETS_KEY.
 */
function readPreviousSecretsKeys(env: Env, current: Buffer | null): Buffer[] {
  const raw = nonEmpty(env, 'SECRETS_KEY_PREVIOUS');
  if (raw === undefined) return [];
  if (current === null)
    throw new ConfigError(
      'SECRETS_KEY_PREVIOUS',
      'needs SECRETS_KEY: the new master key the old ones are replaced by',
    );
  return raw.split(',').map((part, i) => {
    const key = parseSecretsKey(part);
    if (key === null)
      throw new ConfigError(
        'SECRETS_KEY_PREVIOUS',
        `entry ${i + 1} must be 32 bytes in base64, like SECRETS_KEY (comma-separated, no spaces needed)`,
      );
    return key;
  });
}

/** `<PREFIX>_CLIENT_ID`/`_CLIENT_SECRET` and the app's URLs; null when no client id is set. */
function readOAuthApp(
  env: Env,
  prefix: 'HUBSPOT' | 'SALESFORCE',
  urls: { name: string; fallback: string }[],
): CrmOAuthApp | null {
  const clientId = nonEmpty(env, `${prefix}_CLIENT_ID`);
  const clientSecret = nonEmpty(env, `${prefix}_CLIENT_SECRET`);
  if (clientId === undefined) return null;
  if (clientSecret === undefined)
    throw new ConfigError(`${prefix}_CLIENT_SECRET`, `is required when ${prefix}_CLIENT_ID is set`);
  const [authorizeBase, tokenBase] = urls.map(({ name, fallback }) =>
    parseUrl(name, nonEmpty(env, name) ?? fallback, ['http:', 'https:']).href.replace(/\/+$/, ''),
  );
  return { clientId, clientSecret, authorizeBase: String(authorizeBase), tokenBase: String(tokenBase) };
}

/** Per-organisation CRM connections: the consent poll, the OAuth apps, HubSpot's webhook secret. */
function readCrmConnections(env: Env): Pick<Config, 'crmConsentPollMs' | 'crmOAuth' | 'hubspotClientSecret'> {
  const crmConsentPollMs = millis(env, 'CRM_CONSENT_POLL_MS', 30_000, 100, 3_600_000);
  const crmOAuth = {
    hubspot: readOAuthApp(env, 'HUBSPOT', [
      { name: 'HUBSPOT_AUTHORIZE_URL', fallback: 'https://app.hubspot.com/oauth/authorize' },
      { name: 'HUBSPOT_API_URL', fallback: 'https://api.hubapi.com' },
    ]),
    salesforce: readOAuthApp(env, 'SALESFORCE', [
      { name: 'SALESFORCE_LOGIN_URL', fallback: 'https://login.salesforce.com' },
      { name: 'SALESFORCE_LOGIN_URL', fallback: 'https://login.salesforce.com' },
    ]),
  };
  return { crmConsentPollMs, crmOAuth, hubspotClientSecret: nonEmpty(env, 'HUBSPOT_CLIENT_SECRET') ?? null };
}

/**
 * LOG_LEVEL and LOG_FORMAT. A sandbox relay not run with NODE_ENV=production is someone trying the
 * product at a terminal: readable lines, and warnings only (no line per request). Everything else
 * keeps JSON lines at info, what a log collector expects.
 */
function readLogging(env: Env, smsProvider: Config['smsProvider']): Pick<Config, 'logLevel' | 'logFormat'> {
  const trying = smsProvider === 'sandbox' && env.NODE_ENV !== 'production';
  const logLevel = oneOf(
    env,
    'LOG_LEVEL',
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
    trying ? 'warn' : 'info',
  );
  const logFormat = oneOf(env, 'LOG_FORMAT', ['pretty', 'json'] as const, trying ? 'pretty' : 'json');
  return { logLevel, logFormat };
}

/**
 * Parses and validates the environment; throws ConfigError on the first bad variable. The readers
 * run in a fixed order, so which variable is reported first does not depend on the Config's shape.
 */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const listen = readListen(env);
  const storage = readStorage(env, cwd);
  const publicUrl = readPublicUrl(env, listen);
  const sms = readSmsProvider(env);
  const rates = readSendRates(env);
  const trustProxy = parseTrustProxy(nonEmpty(env, 'TRUST_PROXY'));
  const mail = readMail(env, sms.smsProvider, publicUrl);
  const outbox = readOutbox(env);
  const crmProvider = readDemoCrm(env, sms.smsProvider);
  const secretsKey = readSecretsKey(env, sms.smsProvider);
  const secretsKeyPrevious = readPreviousSecretsKeys(env, secretsKey);
  const crm = readCrmConnections(env);
  const logging = readLogging(env, sms.smsProvider);
  const payments = readPaymentConfig(env, sms.smsProvider);
  const workerRaw = oneOf(env, 'OUTBOX_WORKER', ['on', 'off'] as const, 'on');
  return {
    ...listen,
    ...storage,
    publicUrl: publicUrl.href.replace(/\/$/, ''),
    ...sms,
    trustProxy,
    mail,
    ...rates,
    outbox,
    crmProvider,
    secretsKey,
    secretsKeyPrevious,
    ...crm,
    ...logging,
    workerEnabled: workerRaw === 'on',
    payments,
    retentionIntervalMs: millis(env, 'RETENTION_INTERVAL_MS', 3_600_000, 60_000, 86_400_000),
  };
}
