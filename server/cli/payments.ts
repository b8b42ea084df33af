import { systemClock } from '../clock.ts';
import { ApiError } from '../errors.ts';
import { PaymentProviderError } from '../payments/payment-provider.ts';
import { StripePayments } from '../payments/stripe.ts';
import {
  checkedStripeCredentials,
  keyHint,
  saveStripeConnection,
  storedStripe,
} from '../payments/stripe-connection.ts';
import { CLI_ACTOR, type Command, requireSecretsKey } from './command.ts';

/** The Stripe events the relay's webhook endpoint must be sent (Stripe Dashboard → Webhooks). */
export const STRIPE_EVENTS = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'checkout.session.expired',
  'charge.refunded',
  'charge.dispute.created',
  'payment_intent.payment_failed',
];

function apiUrl(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin;
  } catch {
    // reported below with the flag's name
  }
  throw new ApiError(400, 'INVALID_URL', `--api-url must be an http(s) origin; got "${raw}".`);
}

/** `payments connect stripe` and `payments status`: the installation's payment provider. */
export const PAYMENT_COMMANDS: Record<string, Command> = {
  'payments connect stripe': {
    summary: 'Connect the Stripe account payment links use (the key is checked, then stored encrypted)',
    usage:
      'payments connect stripe --restricted-key <rk_live_…> --webhook-secret <whsec_…[,whsec_…]> [--api-url <url>] [--json]',
    flags: {
      'restricted-key': {
        help: 'a restricted key with Checkout Sessions (write) and Refunds (write)',
        required: true,
        value: true,
      },
      'webhook-secret': {
        help: 'the signing secret of the endpoint PUBLIC_URL/webhooks/payments (comma-separated while rotating)',
        required: true,
        value: true,
      },
      'api-url': { help: 'API origin (default https://api.stripe.com; a local fake in tests)', value: true },
    },
    async run(db, flags, io) {
      const { key, secrets } = checkedStripeCredentials(
        flags['restricted-key'] ?? '',
        flags['webhook-secret'] ?? '',
      );
      const sealKey = await requireSecretsKey(db, io, 'the Stripe key');
      const connection = { secretKey: key, webhookSecrets: secrets, apiUrl: apiUrl(flags['api-url']) };
      const stripe = new StripePayments({ ...connection, timeoutMs: io.config.outbox.providerTimeoutMs });
      let livemode: boolean;
      try {
        ({ livemode } = await stripe.verify());
      } catch (error) {
        if (!(error instanceof PaymentProviderError)) throw error;
        throw new ApiError(
          400,
          'STRIPE_KEY_REFUSED',
          `Stripe did not accept the key (${error.code}): ${error.message} Nothing was stored.`,
        );
      }
      await saveStripeConnection(db, sealKey, connection, { livemode, at: systemClock(), by: CLI_ACTOR });
      const endpoint = `${io.config.publicUrl}/webhooks/payments`;
      const overridden = io.config.payments?.provider !== 'connected';
      return {
        json: {
          provider: 'stripe',
          key: keyHint(key),
          livemode,
          webhookEndpoint: endpoint,
          events: STRIPE_EVENTS,
        },
        text: [
          `Connected Stripe (${livemode ? 'live' : 'test'} mode) with ${keyHint(key)}; restart the relay to use it.`,
          `In Stripe, send these events to ${endpoint}: ${STRIPE_EVENTS.join(', ')}.`,
          ...(overridden
            ? [`Note: PAYMENT_PROVIDER is set in this environment, and it wins over the stored account.`]
            : []),
        ].join('\n'),
      };
    },
  },
  'payments status': {
    summary: 'Which payment provider links use, and webhook events waiting or failed',
    usage: 'payments status [--json]',
    flags: {},
    async run(db, _flags, io) {
      const stored = await storedStripe(db);
      const configured = io.config.payments;
      const provider =
        configured === null
          ? 'off'
          : configured.provider !== 'connected'
            ? configured.provider
            : stored !== null
              ? 'stripe'
              : (configured.otherwise ?? 'off');
      const [events] = await db.query<{ waiting: number; failed: number }>(
        `SELECT count(*) FILTER (WHERE processed_at IS NULL AND last_error IS NULL)::int AS waiting,
                count(*) FILTER (WHERE processed_at IS NULL AND last_error IS NOT NULL)::int AS failed
           FROM payment_webhook_events`,
      );
      const source =
        configured !== null && configured.provider !== 'connected'
          ? 'PAYMENT_PROVIDER'
          : stored !== null
            ? 'payments connect stripe'
            : 'default';
      return {
        json: {
          provider,
          source,
          stripe:
            stored === null
              ? null
              : {
                  key: stored.keyHint,
                  livemode: stored.livemode,
                  connectedAt: stored.connectedAt.toISOString(),
                },
          webhookEvents: { waiting: events?.waiting ?? 0, failed: events?.failed ?? 0 },
        },
        text: [
          `Payment links: ${provider} (from ${source})`,
          ...(stored === null
            ? []
            : [
                `Stripe: ${stored.keyHint}, ${stored.livemode ? 'live' : 'test'} mode, connected ${stored.connectedAt.toISOString()}`,
              ]),
          `Webhook events: ${events?.waiting ?? 0} waiting, ${events?.failed ?? 0} failed (retrying)`,
        ].join('\n'),
      };
    },
  },
};
