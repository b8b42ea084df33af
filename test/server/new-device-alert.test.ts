import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnomalyNotices } from '../../server/anomalies/alert-notices.ts';
import { countryOf } from '../../server/anomalies/ip-country.ts';
import { deviceOf } from '../../server/anomalies/new-device.ts';
import { SandboxMailTransport } from '../../server/mail/transport.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  seedOrg,
  signedInUser,
  TEST_PASSWORD,
  type TestOrg,
  type TestRelay,
  testRelay,
  testUser,
} from '../helpers/relay.ts';

// Issue #18 (6): "sign-ins from a new device … raise an alert too". A person's first sign-in is not
// news, nor a browser update; a sign-in from a browser and system they never used is, once, for
// the org's admins (mailed), never for another org.
postgresSkipNote('new-device alerts');

const CHROME_WIN =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const CHROME_WIN_NEXT = CHROME_WIN.replace('131.0.0.0', '132.0.0.0');
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const EDGE_WIN = `${CHROME_WIN} Edg/131.0.0.0`;

describe('a device as people name it', () => {
  it.each([
    [CHROME_WIN, 'Chrome on Windows'],
    [EDGE_WIN, 'Edge on Windows'],
    [FIREFOX_LINUX, 'Firefox on Linux'],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1',
      'Safari on iOS',
    ],
    ['curl/8.5.0', 'an unknown device'],
    [undefined, 'an unknown device'],
  ])('%s is %s', (ua, name) => {
    expect(deviceOf(ua)).toBe(name);
  });
});

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let drop: () => Promise<void>;
  let ada: { auth: { authorization: string } };
  let olga: { auth: { authorization: string } };

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db);
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    const other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    await testUser(relay.db, {
      orgId: org.orgId,
      email: 'nina@acme.example',
      role: 'rep',
      now: relay.clock(),
    });
    ada = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'ada@acme.example',
      role: 'admin',
      now: relay.clock(),
    });
    olga = await signedInUser(relay.app, relay.db, {
      orgId: other.orgId,
      email: 'olga@other.example',
      role: 'admin',
      now: relay.clock(),
    });
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const signIn = async (userAgent: string, from = '127.0.0.1', email = 'nina@acme.example') => {
    const answer = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      headers: { 'user-agent': userAgent },
      remoteAddress: from,
      payload: { email, password: TEST_PASSWORD },
    });
    expect(answer.statusCode, answer.body).toBe(201);
  };
  const alertsOf = async (auth: { authorization: string }, metric: string) =>
    (
      (await relay.app.inject({ method: 'GET', url: '/v1/alerts?state=all', headers: auth })).json()
        .alerts as {
        metric: string;
        device: string | null;
        country: string | null;
        rep: { name: string | null } | null;
      }[]
    ).filter((a) => a.metric === metric);
  const newDeviceAlerts = (auth: { authorization: string }) => alertsOf(auth, 'new_device');
  const mailDueNotices = () =>
    new AnomalyNotices({
      db: relay.db,
      mail: new SandboxMailTransport(relay.db),
      publicUrl: relay.config.publicUrl,
      clock: relay.clock,
      log: relay.app.log,
    }).sendDue();

  it('raises one alert for a sign-in from a browser and system the person never used, and mails the admins', async () => {
    await signIn(CHROME_WIN);
    await signIn(CHROME_WIN_NEXT);
    expect(await newDeviceAlerts(ada.auth)).toEqual([]);
    await signIn(FIREFOX_LINUX);
    await signIn(FIREFOX_LINUX);
    const alerts = await newDeviceAlerts(ada.auth);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ device: 'Firefox on Linux', rep: { name: 'nina@acme.example' } });
    expect(await newDeviceAlerts(olga.auth)).toEqual([]);
    await mailDueNotices();
    const [mail] = await relay.db.query<{ to_address: string; body: string }>(
      `SELECT to_address, body FROM sandbox_mail WHERE subject LIKE 'New device sign-in%'`,
    );
    expect(mail?.to_address).toBe('ada@acme.example');
    expect(mail?.body).toContain('signed in from a device never used before: Firefox on Linux');
  });

  it('raises one alert for a sign-in from a country the person never signed in from, and mails the admins', async () => {
    await testUser(relay.db, {
      orgId: org.orgId,
      email: 'tom@acme.example',
      role: 'rep',
      now: relay.clock(),
    });
    const tom = (from: string) => signIn(CHROME_WIN, from, 'tom@acme.example');
    await tom('127.0.0.1'); // a first sign-in, from nowhere in particular: not news
    await tom('8.8.8.8'); // the first place known: not news either
    await tom('8.8.4.4');
    await tom('10.1.2.3'); // a private address has no country
    expect(await alertsOf(ada.auth, 'new_country')).toEqual([]);
    await tom('81.2.69.142');
    await tom('::ffff:81.2.69.142');
    const alerts = await alertsOf(ada.auth, 'new_country');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ country: 'GB', rep: { name: 'tom@acme.example' } });
    expect(await alertsOf(olga.auth, 'new_country')).toEqual([]);
    await mailDueNotices();
    const [mail] = await relay.db.query<{ to_address: string; body: string }>(
      `SELECT to_address, body FROM sandbox_mail WHERE subject LIKE 'Sign-in from a new country%'`,
    );
    expect(mail?.to_address).toBe('ada@acme.example');
    expect(mail?.body).toContain('tom@acme.example signed in from GB (81.2.69.142)');
    expect(mail?.body).toContain('until now: US');
    expect(mail?.body).toContain('IP Geolocation by DB-IP');
  });
});

describe('the country of an address, offline', () => {
  it.each([
    ['8.8.8.8', 'US'],
    ['81.2.69.142', 'GB'],
    ['::ffff:81.2.69.142', 'GB'],
    ['2a00:1450:4009:81f::200e', 'GB'],
    ['127.0.0.1', null],
    ['192.168.1.20', null],
    ['::1', null],
    ['fe80::1', null],
    ['not an address', null],
  ])('%s is in %s', async (ip, country) => {
    expect(await countryOf(ip)).toBe(country);
  });
});
