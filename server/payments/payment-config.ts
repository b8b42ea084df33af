import { ConfigError, type Env, nonEmpty, oneOf, parseUrl } from '../config-parsers.ts';

/** PAYMENT_PROVIDER and, for Stripe, its account; null when payment links are off. */
export type PaymentConfig =
  | { provider: 'sandbox' }
  | { provider: 'stripe'; secretKey: string; webhookSecrets: string[]; apiUrl: string | null }
  /** PAYMENT_PROVIDER unset: the Stripe account `cli payments connect stripe` stored, else `otherwise`. */
  | { provider: 'connected'; otherwise: 'sandbox' | null }
  | null;

/**
 * PAYMENT_PROVIDER (`sandbox`, `stripe` or `off`; unset: the Stripe account connected with the
 * CLI if there is one, else the sandbox when SMS_PROVIDER is the sandbox, else off), STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET (several, comma-separated,
 * while rotating) and STRIPE_API_URL (a base-URL override, for tests against a local fake).
 */
export function readPaymentConfig(env: Env, smsProvider: 'sandbox' | 'plivo'): PaymentConfig {
  const fallback = smsProvider === 'sandbox' ? 'sandbox' : 'off';
  if (nonEmpty(env, 'PAYMENT_PROVIDER') === undefined)
    return { provider: 'connected', otherwise: fallback === 'sandbox' ? 'sandbox' : null };
  const provider = oneOf(env, 'PAYMENT_PROVIDER', ['sandbox', 'stripe', 'off'] as const, fallback);
  if (provider === 'off') return null;
  if (provider === 'sandbox') {
    if (smsProvider !== 'sandbox')
      throw new ConfigError(
        'PAYMENT_PROVIDER',
        'the sandbox payment provider exists only with SMS_PROVIDER=sandbox; use stripe or off',
      );
    return { provider };
  }
  const secretKey = nonEmpty(env, 'STRIPE_SECRET_KEY');
  if (secretKey === undefined)
    throw new ConfigError('STRIPE_SECRET_KEY', 'is required when PAYMENT_PROVIDER=stripe');
  if (!/^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}$/.test(secretKey))
    throw new ConfigError(
      'STRIPE_SECRET_KEY',
      'does not look like a Stripe secret or restricted key (sk_live_…, sk_test_…, rk_…)',
    );
  const secretsRaw = nonEmpty(env, 'STRIPE_WEBHOOK_SECRET');
  if (secretsRaw === undefined)
    throw new ConfigError(
      'STRIPE_WEBHOOK_SECRET',
      'is required when PAYMENT_PROVIDER=stripe: the whsec_… secret of the webhook endpoint',
    );
  const webhookSecrets = secretsRaw.split(',').map((s) => s.trim());
  if (webhookSecrets.some((s) => !/^whsec_[A-Za-z0-9_+/=]{8,}$/.test(s)))
    throw new ConfigError('STRIPE_WEBHOOK_SECRET', 'must be whsec_… secrets separated by commas');
  const apiRaw = nonEmpty(env, 'STRIPE_API_URL');
  const apiUrl = apiRaw === undefined ? null : parseUrl('STRIPE_API_URL', apiRaw, ['http:', 'https:']).origin;
  return { provider, secretKey, webhookSecrets, apiUrl };
}
