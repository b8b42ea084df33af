import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { HubSpotWebhookReceiver } from '../crm-sync/hubspot-webhook.ts';
import type { Access } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';

const webhook: { access: Access } = { access: { kind: 'webhook', provider: 'hubspot' } };

const HubSpotDelivery = Type.Object(
  {
    received: Type.Integer({ description: 'Events in the delivery' }),
    optOuts: Type.Integer({ description: 'Phone numbers opted out at once' }),
    duplicates: Type.Integer({ description: 'Events taken in before (HubSpot retries, replays)' }),
    ignored: Type.Integer({ description: 'Events no connection of this app claims, or without an event id' }),
  },
  { description: 'What the relay did with the delivery' },
);

/** HubSpot's signed webhook: SMS consent changes made in the CRM (crm-sync/hubspot-webhook.ts). */
export const hubspotWebhookRoutes: RouteModule = (app, { config, db, clock }) => {
  const receiver = new HubSpotWebhookReceiver(config, db, (facts, message) => app.log.warn(facts, message));
  app.register(async (scope) => {
    // The signature covers the exact bytes HubSpot sent: keep them, parse after verifying.
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      done(null, body);
    });
    scope.post(
      '/webhooks/hubspot',
      {
        config: webhook,
        schema: {
          summary: 'HubSpot consent changes',
          description:
            'HubSpot posts contact property changes; a contact set to opted_out becomes an opt-out in the consent ledger. Signed with HubSpot’s v3 signature (5-minute window); each event counts once.',
          tags: ['webhooks'],
          response: { 200: HubSpotDelivery, ...errorResponses },
        },
      },
      async (request) =>
        receiver.receive(
          request.headers,
          request.url,
          typeof request.body === 'string' ? request.body : '',
          clock(),
        ),
    );
  });
};
