import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { randomToken } from '../ids.ts';
import { instanceSecret } from '../providers/sandbox-sms.ts';
import { Payments } from './payments.ts';
import { SandboxPayments } from './sandbox-payments.ts';
import { StripePayments } from './stripe.ts';
import { openStripeConnection, type StripeConnection } from './stripe-connection.ts';

/** The payment side the configuration names (PAYMENT_PROVIDER), or null when payment links are off. */
export async function createPayments(
  config: Config,
  db: Database,
  clock: Clock,
  log: (message: string) => void,
): Promise<Payments | null> {
  const settings = await resolved(config, db);
  if (settings === null) return null;
  const secrets = (name: string) => instanceSecret(db, name, () => randomToken(32));
  const provider =
    settings.provider === 'stripe'
      ? new StripePayments({
          secretKey: settings.secretKey,
          webhookSecrets: settings.webhookSecrets,
          apiUrl: settings.apiUrl,
          timeoutMs: config.outbox.providerTimeoutMs,
        })
      : new SandboxPayments(db, config.publicUrl, await secrets('sandbox_payments_webhook_secret'), clock);
  return new Payments(provider, db, clock, await secrets('payment_link_secret'), log);
}

/** PAYMENT_PROVIDER as configured, or when unset the Stripe account the CLI connected, else the fallback. */
async function resolved(
  config: Config,
  db: Database,
): Promise<{ provider: 'sandbox' } | ({ provider: 'stripe' } & StripeConnection) | null> {
  const settings = config.payments;
  if (settings === null || settings.provider === 'sandbox') return settings;
  if (settings.provider === 'stripe') return settings;
  const connected = await openStripeConnection(db, {
    configured: config.secretsKey,
    sandbox: config.smsProvider === 'sandbox',
  });
  if (connected !== null) return { provider: 'stripe', ...connected };
  return settings.otherwise === null ? null : { provider: settings.otherwise };
}
