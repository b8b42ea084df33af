import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { createPayments } from '../../server/payments/select.ts';
import { StripePayments } from '../../server/payments/stripe.ts';
import { FakeStripe } from '../fakes/stripe-fake.ts';
import { cliOn } from '../helpers/cli.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { type TestRelay, testConfig, testRelay } from '../helpers/relay.ts';

// Issue #15 (8): `payments connect stripe` checks a restricted key against Stripe (the fake, through
// the real SDK), stores it sealed, and a relay without PAYMENT_PROVIDER then takes payments through
// that account; a key Stripe refuses, or one in the wrong shape, stores nothing.
const KEY = 'rk_test_relay_connect_0123456789';
const SECRET = 'whsec_relay_connect_secret';
postgresSkipNote('payments connect stripe');

describe.each(ENGINES)('on %s', (engine) => {
  let fake: FakeStripe;
  let relay: TestRelay;
  let drop: () => Promise<void>;
  const run = (...argv: string[]) => cliOn({ db: relay.db, config: relay.config }, ...argv);
  const stored = async () =>
    relay.db.query<{ sealed: string; key_hint: string }>(
      'SELECT sealed, key_hint FROM payment_provider_connections',
    );

  beforeAll(async () => {
    fake = await new FakeStripe({ secretKey: KEY, webhookSecret: SECRET }).start();
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
    await fake.close();
  });

  it('refuses a key or secret in the wrong shape, and a key Stripe refuses, storing nothing', async () => {
    const shape = await run(
      'payments',
      'connect',
      'stripe',
      '--restricted-key',
      'pk_live_oops',
      '--webhook-secret',
      SECRET,
    );
    expect(shape.code).not.toBe(0);
    expect(shape.err).toContain('--restricted-key must be a Stripe restricted key');
    const secret = await run(
      'payments',
      'connect',
      'stripe',
      '--restricted-key',
      KEY,
      '--webhook-secret',
      'secret',
    );
    expect(secret.err).toContain('--webhook-secret must be the whsec_… signing secret');
    const refused = await run(
      'payments',
      'connect',
      'stripe',
      '--restricted-key',
      'rk_test_someone_elses_key_0000',
      '--webhook-secret',
      SECRET,
      '--api-url',
      fake.url,
    );
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('Stripe did not accept the key (api_key_invalid)');
    expect(await stored()).toEqual([]);
  });

  it('stores a key Stripe accepts, sealed, and a relay without PAYMENT_PROVIDER uses that account', async () => {
    const connected = await run(
      'payments',
      'connect',
      'stripe',
      '--restricted-key',
      KEY,
      '--webhook-secret',
      SECRET,
      '--api-url',
      fake.url,
      '--json',
    );
    expect(connected.code, connected.err).toBe(0);
    expect(JSON.parse(connected.out)).toMatchObject({
      provider: 'stripe',
      livemode: false,
      webhookEndpoint: `${relay.config.publicUrl}/webhooks/payments`,
    });
    const [row] = await stored();
    expect(row?.sealed).not.toContain(KEY);
    expect(row?.sealed).not.toContain(SECRET);
    expect(row?.key_hint).toBe('rk_test_…6789');

    const status = await run('payments', 'status', '--json');
    expect(JSON.parse(status.out)).toMatchObject({
      provider: 'stripe',
      source: 'payments connect stripe',
      stripe: { key: 'rk_test_…6789' },
    });

    const payments = await createPayments(relay.config, relay.db, relay.clock, () => undefined);
    const provider = payments?.provider;
    expect(provider).toBeInstanceOf(StripePayments);
    await expect((provider as StripePayments).verify()).resolves.toEqual({ livemode: false });
    // PAYMENT_PROVIDER set in the environment wins over the stored account.
    const off = {
      ...testConfig(),
      payments: loadConfig({ PUBLIC_URL: 'http://relay.test', PAYMENT_PROVIDER: 'off' }).payments,
    };
    expect(await createPayments(off, relay.db, relay.clock, () => undefined)).toBeNull();
  });
});
