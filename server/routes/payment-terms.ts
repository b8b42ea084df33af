import { errorResponses } from '../../contract/errors.ts';
import { PaymentTermsSchema } from '../../contract/payments.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { MAX_LINK_DAYS, readPaymentSettings } from '../payments/payment-settings.ts';
import { businessName, paymentsOf } from './payment-requests.ts';

/** The org's payment-link terms, so the panel's request form offers only what the relay accepts. */
export const paymentTermsRoutes: RouteModule = (app, deps) => {
  app.get(
    '/v1/payment-requests/terms',
    {
      config: requires('payments.create'),
      schema: {
        summary: 'What a rep may ask for in a payment request',
        description:
          'The currencies the org takes (the first is the default), how long links live and the largest amount one request may ask for.',
        tags: ['payments'],
        response: { 200: PaymentTermsSchema, ...errorResponses },
        'x-error-codes': ['PAYMENTS_NOT_CONFIGURED'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      paymentsOf(deps);
      const settings = await readPaymentSettings(deps.db, p.orgId);
      return {
        businessName: await businessName(deps.db, p.orgId),
        currencies: settings.currencies,
        linkDays: settings.linkDays,
        maxLinkDays: MAX_LINK_DAYS,
        maxAmountMinor: settings.maxAmountMinor,
      };
    },
  );
};
