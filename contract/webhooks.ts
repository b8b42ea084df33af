import { Type } from 'typebox';

/** What the relay answers a verified Plivo webhook with: an empty text/plain body. */
export const WebhookAck = Type.String({
  description: 'Empty body (text/plain): the webhook was verified and recorded',
});
