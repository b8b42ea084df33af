import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlivoProvider } from '../../server/providers/plivo.ts';
import { FakePlivo } from '../fakes/plivo-fake.ts';
import { providerFailure } from '../helpers/provider-failure.ts';

const AUTH_ID = 'MAFAKEACCOUNT0000001';
const AUTH_TOKEN = 'fake-plivo-token';

let fake: FakePlivo;
let provider: PlivoProvider;

beforeAll(async () => {
  fake = new FakePlivo({ authId: AUTH_ID, authToken: AUTH_TOKEN, hangMs: 1500, slowMs: 100 });
  const url = await fake.start();
  provider = new PlivoProvider({ authId: AUTH_ID, authToken: AUTH_TOKEN, apiUrl: url, timeoutMs: 500 });
});
afterAll(async () => {
  await fake.stop();
});
afterEach(() => {
  fake.queuedFailures.length = 0;
});

const sms = (text: string) => ({
  clientRef: 'msg-1',
  from: '+14155550100',
  to: '+14155550123',
  body: text,
  statusCallbackUrl: 'http://127.0.0.1:1/webhooks/plivo/status',
});

describe('PlivoProvider through the real plivo SDK', () => {
  it('sends the documented request and returns the message uuid', async () => {
    const result = await provider.send(sms('Hello from the relay'));
    expect(result.providerMessageId).toBe(fake.accepted.at(-1)?.uuid);
    const request = fake.requests.at(-1);
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(`/v1/Account/${AUTH_ID}/Message/`);
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}`,
    );
    expect(request?.body).toMatchObject({
      src: '+14155550100',
      dst: '+14155550123',
      text: 'Hello from the relay',
      url: 'http://127.0.0.1:1/webhooks/plivo/status',
      method: 'POST',
      type: 'sms',
      // The object form of the SDK would drop this (reference §1.2); it must reach Plivo.
      log: false,
    });
  });

  it('treats a 429 (which the SDK reports without a status) as retryable', async () => {
    fake.queuedFailures.push('429');
    const error = await providerFailure(provider.send(sms('rate limited')));
    expect(error).toMatchObject({ retryable: true, code: 'PROVIDER_RATE_LIMITED', ambiguous: false });
  });

  it('treats a 500 as retryable and a 400 as permanent with Plivo’s reason', async () => {
    fake.queuedFailures.push('500');
    expect(await providerFailure(provider.send(sms('server error')))).toMatchObject({
      retryable: true,
      code: 'PROVIDER_5XX',
    });
    fake.queuedFailures.push('400');
    const permanent = await providerFailure(provider.send(sms('bad destination')));
    expect(permanent).toMatchObject({ retryable: false, code: 'PLIVO_400' });
    expect(permanent.message).toContain('dst parameter is invalid');
  });

  it('marks a timeout as ambiguous, and the message it may have sent can be found again', async () => {
    fake.queuedFailures.push('timeout-accepted');
    const since = new Date();
    const error = await providerFailure(provider.send({ ...sms('maybe sent'), to: '+14155550177' }));
    expect(error).toMatchObject({ code: 'PROVIDER_TIMEOUT', ambiguous: true });
    const found = await provider.findAccepted(
      { clientRef: 'msg-1', from: '+14155550100', to: '+14155550177' },
      since,
    );
    expect(found).toEqual([fake.accepted.find((m) => m.text === 'maybe sent')?.uuid]);
    const list = fake.requests.at(-1);
    expect(list?.method).toBe('GET');
    expect(list?.path).toContain('to_number=14155550177');
  });

  it('sends from an org’s Powerpack instead of the number when one is set', async () => {
    await provider.send({ ...sms('From the pool'), powerpackUuid: 'pp-1234' });
    const body = fake.requests.at(-1)?.body as Record<string, unknown>;
    expect(body).toMatchObject({ powerpack_uuid: 'pp-1234', dst: '+14155550123', text: 'From the pool' });
    expect(body.src).toBeFalsy();
  });

  it('sends from the Powerpack its organisation setting names, and from the number for other orgs', async () => {
    const pooled = new PlivoProvider({
      authId: AUTH_ID,
      authToken: AUTH_TOKEN,
      apiUrl: fake.baseUrl,
      timeoutMs: 500,
      statusCallbackUrl: 'http://relay.test/webhooks/plivo/status',
      powerpackFor: async (orgId) => (orgId === 'org-pool' ? 'pp-org' : null),
    });
    const { statusCallbackUrl: _named, ...unnamed } = sms('Org pool');
    await pooled.send({ ...unnamed, orgId: 'org-pool' });
    const body = fake.requests.at(-1)?.body as Record<string, unknown>;
    expect(body).toMatchObject({ powerpack_uuid: 'pp-org', url: 'http://relay.test/webhooks/plivo/status' });
    expect(body.src).toBeFalsy();
    await pooled.send({ ...unnamed, orgId: 'org-plain' });
    const plain = fake.requests.at(-1)?.body as Record<string, unknown>;
    expect(plain).toMatchObject({ src: '+14155550100' });
    expect(plain.powerpack_uuid).toBeFalsy();
  });

  it('asks Plivo’s rented-number resource (GET Number/{number}/, no "+") and reads its kind and SMS capability', async () => {
    fake.numbers.rent('+14155550100', { numberType: 'local', alias: 'Front desk' });
    fake.numbers.rent('+18005550100', { numberType: 'tollfree' });
    fake.numbers.rent('+14155550101', { smsEnabled: false });
    expect(await provider.ownsNumber('+14155550100')).toEqual({
      owned: true,
      numberType: 'long_code',
      smsEnabled: true,
    });
    const request = fake.requests.at(-1);
    expect(request?.method).toBe('GET');
    expect(request?.path).toBe(`/v1/Account/${AUTH_ID}/Number/14155550100/`);
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}`,
    );
    expect(await provider.ownsNumber('+18005550100')).toMatchObject({ owned: true, numberType: 'toll_free' });
    expect(await provider.ownsNumber('+14155550101')).toMatchObject({ owned: true, smsEnabled: false });
  });

  it('hears Plivo’s 404 as a number the account does not hold, and a failure as no answer', async () => {
    expect(await provider.ownsNumber('+14155550188')).toEqual({
      owned: false,
      reason: expect.stringContaining('does not list'),
    });
    fake.numbers.queuedFailures.push('500');
    expect(await providerFailure(provider.ownsNumber('+14155550100'))).toMatchObject({
      code: 'PROVIDER_5XX',
      retryable: true,
    });
    fake.numbers.queuedFailures.push('429');
    expect(await providerFailure(provider.ownsNumber('+14155550100'))).toMatchObject({
      code: 'PROVIDER_RATE_LIMITED',
    });
    const unreachable = new PlivoProvider({
      authId: AUTH_ID,
      authToken: AUTH_TOKEN,
      apiUrl: 'http://127.0.0.1:1',
      timeoutMs: 500,
    });
    expect(await providerFailure(unreachable.ownsNumber('+14155550100'))).toMatchObject({
      code: 'PROVIDER_UNREACHABLE',
    });
    // Refused credentials are no answer either, never "not yours".
    const wrong = new PlivoProvider({
      authId: AUTH_ID,
      authToken: 'nope',
      apiUrl: fake.baseUrl,
      timeoutMs: 500,
    });
    expect(await providerFailure(wrong.ownsNumber('+14155550100'))).toMatchObject({ code: 'PROVIDER_AUTH' });
  });

  it('asks for a Powerpack and then its number pool (GET Powerpack/{uuid}/, GET NumberPool/{pool}/Number/{number}/) when told to', async () => {
    const powerpack = fake.powerpacks.create('Acme Dental');
    const pool = fake.powerpacks.poolUuidOf(powerpack);
    fake.numbers.rent('+14155550110', { numberType: 'tollfree' });
    fake.powerpacks.add(powerpack, '+14155550110');
    fake.numbers.rent('+14155550111');
    const before = fake.requests.length;
    expect(await provider.ownsNumber('+14155550110', { powerpackUuid: powerpack })).toEqual({
      owned: true,
      numberType: 'toll_free',
      smsEnabled: true,
      inPowerpack: true,
    });
    const asked = fake.requests.slice(before);
    expect(asked.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /v1/Account/${AUTH_ID}/Powerpack/${powerpack}/`,
      `GET /v1/Account/${AUTH_ID}/NumberPool/${pool}/Number/14155550110/`,
      `GET /v1/Account/${AUTH_ID}/Number/14155550110/`,
    ]);
    for (const request of asked)
      expect(request.headers.authorization).toBe(
        `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}`,
      );
    // On the account but not in the pool; and a Powerpack the account does not have.
    expect(await provider.ownsNumber('+14155550111', { powerpackUuid: powerpack })).toMatchObject({
      owned: true,
      inPowerpack: false,
    });
    expect(
      await provider.ownsNumber('+14155550110', { powerpackUuid: '6f1c1d4e-0000-4000-8000-000000000000' }),
    ).toMatchObject({ owned: true, inPowerpack: false });
    // Not asked about a Powerpack: the answer says nothing about one.
    expect(await provider.ownsNumber('+14155550110', { powerpackUuid: null })).not.toHaveProperty(
      'inPowerpack',
    );
  });

  it('never puts a Powerpack setting that is not a uuid into a request path, and a failure is no answer', async () => {
    fake.numbers.rent('+14155550112');
    const before = fake.requests.length;
    for (const setting of ['../Number/14155550112', 'pp-1234', ''])
      expect(await provider.ownsNumber('+14155550112', { powerpackUuid: setting })).toMatchObject({
        inPowerpack: false,
      });
    expect(fake.requests.slice(before).map((r) => r.path)).toEqual([
      `/v1/Account/${AUTH_ID}/Number/14155550112/`,
      `/v1/Account/${AUTH_ID}/Number/14155550112/`,
      `/v1/Account/${AUTH_ID}/Number/14155550112/`,
    ]);
    const powerpack = fake.powerpacks.create('Flaky');
    fake.powerpacks.queuedFailures.push('500');
    expect(
      await providerFailure(provider.ownsNumber('+14155550112', { powerpackUuid: powerpack })),
    ).toMatchObject({ code: 'PROVIDER_5XX', retryable: true });
  });

  it('reports wrong credentials as a 401 without sending', async () => {
    const wrong = new PlivoProvider({
      authId: AUTH_ID,
      authToken: 'nope',
      apiUrl: fake.baseUrl,
      timeoutMs: 500,
    });
    const before = fake.accepted.length;
    expect(await providerFailure(wrong.send(sms('x')))).toMatchObject({ code: 'PROVIDER_AUTH' });
    expect(fake.accepted.length).toBe(before);
  });
});
