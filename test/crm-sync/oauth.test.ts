import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../server/config.ts';
import { createPlugin, getConnection, openSecrets } from '../../server/crm-sync/connections.ts';
import type { Database } from '../../server/db/database.ts';
import { openPglite } from '../../server/db/pglite.ts';
import { isolateSalesforceHome } from '../crm-plugins/harnesses.ts';
import { type HubSpotFake, startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { type SalesforceFake, startSalesforceFake } from '../fakes/salesforce-fake.ts';
import { cli } from '../helpers/cli.ts';
import { freshPglite } from '../helpers/db.ts';
import { seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';
import { HUBSPOT_APP, SALESFORCE_APP, testKey } from './setup.ts';

const AUTHORIZE = 'https://app.hubspot.test/oauth/authorize';

let restoreHome: () => void = () => {};
let db: Database;
let relay: TestRelay;
let hubspot: HubSpotFake;
let salesforce: SalesforceFake;
let org: TestOrg;
const key = testKey();

beforeAll(async () => {
  restoreHome = isolateSalesforceHome();
  db = await freshPglite();
  hubspot = await startHubSpotFake({ oauth: HUBSPOT_APP });
  salesforce = await startSalesforceFake({ oauth: SALESFORCE_APP });
  const crmOAuth: Config['crmOAuth'] = {
    hubspot: {
      clientId: HUBSPOT_APP.clientId,
      clientSecret: HUBSPOT_APP.clientSecret,
      authorizeBase: AUTHORIZE,
      tokenBase: hubspot.baseUrl,
    },
    salesforce: {
      clientId: SALESFORCE_APP.clientId,
      clientSecret: SALESFORCE_APP.clientSecret,
      authorizeBase: salesforce.instanceUrl,
      tokenBase: salesforce.instanceUrl,
    },
  };
  relay = await testRelay(db, { config: { secretsKey: key.bytes, crmOAuth } });
  org = await seedOrg(db);
});
afterAll(async () => {
  await relay.close();
  await hubspot.close();
  await salesforce.close();
  await db.close();
  restoreHome();
});

async function start(crm: 'hubspot' | 'salesforce') {
  const response = await relay.app.inject({
    method: 'GET',
    url: `/v1/admin/crm/${crm}/oauth/start`,
    headers: org.auth,
  });
  expect(response.statusCode, response.body).toBe(200);
  const url = new URL((response.json() as { url: string }).url);
  return {
    url,
    state: url.searchParams.get('state') ?? '',
    redirect: url.searchParams.get('redirect_uri') ?? '',
  };
}

const callback = (crm: string, query: Record<string, string>) =>
  relay.app.inject({ method: 'GET', url: `/v1/crm/oauth/${crm}/callback?${new URLSearchParams(query)}` });

describe.each([
  ['hubspot', () => hubspot as HubSpotFake | SalesforceFake],
  ['salesforce', () => salesforce as HubSpotFake | SalesforceFake],
] as const)('OAuth web flow: %s', (crm, fake) => {
  it('builds the authorize URL with client id, redirect URI, scope and a state', async () => {
    const { url, state, redirect } = await start(crm);
    if (crm === 'hubspot') expect(`${url.origin}${url.pathname}`).toBe(AUTHORIZE);
    else expect(`${url.origin}${url.pathname}`).toBe(`${salesforce.instanceUrl}/services/oauth2/authorize`);
    expect(url.searchParams.get('client_id')).toBe(
      crm === 'hubspot' ? HUBSPOT_APP.clientId : SALESFORCE_APP.clientId,
    );
    expect(redirect).toBe(`http://relay.test/v1/crm/oauth/${crm}/callback`);
    expect(url.searchParams.get('scope')).toBeTruthy();
    expect(state).toMatch(/^[\w-]{40,}$/);
  });

  it('refuses a forged state, a wrong code and an expired state', async () => {
    const forged = await callback(crm, { code: fake().issueAuthCode('x'), state: 'forged-state-value' });
    expect(forged.statusCode).toBe(400);
    expect(forged.headers['content-type']).toMatch(/text\/html/);
    expect(forged.body).toMatch(/invalid, expired or already used/);

    const wrong = await start(crm);
    const refused = await callback(crm, { code: 'not-a-real-code', state: wrong.state });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toMatch(/refused the authorization code/);

    const old = await start(crm);
    // Expired by the relay's clock, which judges it (the database's now() is another clock: the
    // relay's daytime clock is behind it after 17:00 UTC, where now() - 1 s was still valid).
    await db.query(`UPDATE crm_oauth_states SET expires_at = $1 WHERE used_at IS NULL`, [
      new Date(relay.clock().getTime() - 1000),
    ]);
    const expired = await callback(crm, { code: fake().issueAuthCode(old.redirect), state: old.state });
    expect(expired.statusCode).toBe(400);
    expect(expired.body).toMatch(/invalid, expired or already used/);
    await expect(getConnection(db, org.orgId, crm)).rejects.toMatchObject({ code: 'CRM_NOT_CONNECTED' });
  });

  it('exchanges the code, stores the tokens sealed, and the state works once only', async () => {
    const { state, redirect } = await start(crm);
    const ok = await callback(crm, { code: fake().issueAuthCode(redirect), state });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.body).toContain('Connected');

    const connection = await getConnection(db, org.orgId, crm);
    const secrets = openSecrets(key, connection);
    expect(secrets.accessToken).toBe(fake().accessToken);
    expect(secrets.refreshToken).toBe(
      crm === 'hubspot' ? HUBSPOT_APP.refreshToken : SALESFORCE_APP.refreshToken,
    );
    const [row] = await db.query<{ secrets: string; settings: unknown }>(
      `SELECT secrets, settings::text AS settings FROM crm_connections WHERE id = $1`,
      [connection.id],
    );
    for (const secret of [secrets.accessToken, secrets.refreshToken, secrets.clientSecret]) {
      expect(secret).toBeTruthy();
      expect(row?.secrets).not.toContain(String(secret));
      expect(String(row?.settings)).not.toContain(String(secret));
    }
    if (crm === 'salesforce') expect(connection.settings.instanceUrl).toBe(salesforce.instanceUrl);
    // Webhooks are attributed by portal (issue #13, finding 13): the install's hub id is stored.
    if (crm === 'hubspot') expect(connection.settings.portalId).toBe(String(hubspot.portalId));
    // The stored tokens drive the real SDK against the CRM.
    const health = await createPlugin(connection, secrets).healthCheck();
    expect(health.detail).toMatch(/^connected/);

    const reused = await callback(crm, { code: fake().issueAuthCode(redirect), state });
    expect(reused.statusCode).toBe(400);
    expect(reused.body).toMatch(/already used/);
  });
});

describe('after connecting', () => {
  it('shows the just-connected CRM answering on the status page at once, not the cached list', async () => {
    const fresh = await seedOrg(db, { sender: '+12025550166' });
    const status = () =>
      relay.app.inject({ method: 'GET', url: '/v1/admin/crm/status', headers: fresh.auth });
    // The admin's CRM page read the (empty) connections a moment before they connected.
    expect((await status()).json().connections).toEqual([]);
    const response = await relay.app.inject({
      method: 'GET',
      url: '/v1/admin/crm/hubspot/oauth/start',
      headers: fresh.auth,
    });
    const url = new URL(response.json().url as string);
    const redirect = url.searchParams.get('redirect_uri') ?? '';
    const back = await callback('hubspot', {
      code: hubspot.issueAuthCode(redirect),
      state: url.searchParams.get('state') ?? '',
    });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.body).toContain('/admin#/crm');
    const [connection] = (await status()).json().connections;
    // HubSpot itself answers (its fields are not installed yet), not "no plugin configured".
    expect(connection.crm).toBe('hubspot');
    expect(connection.health.detail).toMatch(/^connected; install needed/);
  });
});

describe('crm oauth-url (CLI)', () => {
  // Only these variables are set and put back, one by one: never HOME (the Salesforce isolation
  // above removes whatever HOME points at when it restores).
  const VARS: Record<string, string> = {
    HUBSPOT_CLIENT_ID: 'hs-cli-client',
    HUBSPOT_CLIENT_SECRET: 'hs-cli-secret',
    SALESFORCE_CLIENT_ID: 'sf-cli-client',
    SALESFORCE_CLIENT_SECRET: 'sf-cli-secret',
    SALESFORCE_LOGIN_URL: 'https://test.salesforce.com',
    PUBLIC_URL: 'https://relay.example.com',
  };
  const previous = new Map<string, string | undefined>();
  let dataDir: string;
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-crm-oauth-'));
    for (const name of [...Object.keys(VARS), 'DATA_DIR', 'DATABASE_URL'])
      previous.set(name, process.env[name]);
    for (const [name, value] of Object.entries(VARS)) process.env[name] = value;
    process.env.DATA_DIR = dataDir;
    delete process.env.DATABASE_URL;
  });
  afterAll(() => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  it('prints the install URL for each CRM', async () => {
    const created = await cli('org', 'create', '--name', 'Acme Dental', '--json');
    expect(created.code, created.err).toBe(0);
    const orgId = JSON.parse(created.out).orgId as string;

    const hs = await cli('crm', 'oauth-url', 'hubspot', '--org', orgId);
    expect(hs.code, hs.err + hs.out).toBe(0);
    const hsUrl = new URL(hs.out.split('\n')[0] ?? '');
    expect(`${hsUrl.origin}${hsUrl.pathname}`).toBe('https://app.hubspot.com/oauth/authorize');
    expect(hsUrl.searchParams.get('client_id')).toBe('hs-cli-client');
    expect(hsUrl.searchParams.get('redirect_uri')).toBe(
      'https://relay.example.com/v1/crm/oauth/hubspot/callback',
    );
    expect(hsUrl.searchParams.get('state')).toBeTruthy();

    const sf = await cli('crm', 'oauth-url', 'salesforce', '--org', orgId, '--json');
    expect(sf.code, sf.err + sf.out).toBe(0);
    const sfUrl = new URL(JSON.parse(sf.out).url);
    expect(`${sfUrl.origin}${sfUrl.pathname}`).toBe('https://test.salesforce.com/services/oauth2/authorize');
    expect(sfUrl.searchParams.get('response_type')).toBe('code');

    const missing = await cli('crm', 'oauth-url', 'hubspot', '--json');
    expect(missing.code).toBe(2);
  });

  it("records an operator's connect, install and uninstall in the org's audit log, chain intact", async () => {
    const created = await cli('org', 'create', '--name', 'Audited Dental', '--json');
    const orgId = JSON.parse(created.out).orgId as string;
    const connect = await cli(
      'crm',
      'connect',
      'hubspot',
      '--org',
      orgId,
      '--token',
      hubspot.accessToken,
      '--base-url',
      hubspot.baseUrl,
    );
    expect(connect.code, connect.err + connect.out).toBe(0);
    const install = await cli('crm', 'install', 'hubspot', '--org', orgId);
    expect(install.code, install.err + install.out).toBe(0);
    const uninstall = await cli('crm', 'uninstall', '--org', orgId);
    expect(uninstall.code, uninstall.err + uninstall.out).toBe(0);
    const local = await openPglite({ dataDir });
    try {
      const rows = await local.query<{ action: string; actor: string }>(
        'SELECT action, actor FROM audit_log WHERE org_id = $1 ORDER BY seq',
        [orgId],
      );
      expect(rows).toEqual([
        { action: 'crm.connected', actor: 'cli' },
        { action: 'crm.installed', actor: 'cli' },
        { action: 'crm.uninstalled', actor: 'cli' },
      ]);
    } finally {
      await local.close();
    }
    const verified = await cli('audit', 'verify', '--org', orgId);
    expect(verified.out).toContain(`OK ${orgId}: 3 entries`);
  });
});
