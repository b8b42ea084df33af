import { signPlivoV3 } from '../../server/providers/plivo-signature.ts';
import type { LoadRequest } from './load.ts';

/**
 * What a stretch of load sends, as plain data: it crosses into the load-generator worker thread
 * (functions cannot), and the same code builds the requests in-process or in the worker, so the
 * two generator placements do exactly the same work per request.
 */
export type Scenario =
  | {
      kind: 'send';
      authorization: string;
      from: string;
      /** One recipient per lane: concurrent sends then do not queue on one conversation row. */
      recipients: string[];
      /**
       * Instead of one recipient per lane, the stretch's requests take the recipients in turn from
       * this index on (the nth request of the stretch, whatever its lane, texts start + n), so each
       * is texted about as often as the list is long allows (the frequency-capped case).
       */
      rotateFrom?: number;
      /** The CRM record of each recipient (same index), sent as the message's `contact`. */
      contactIds?: string[];
      body: string;
      /** Unique per stretch: idempotency keys are `${prefix}-${lane}-${seq}`. */
      prefix: string;
      /** Where to: POST /v1/messages unless given (the bench's bare Fastify route takes the same body). */
      path?: string;
    }
  | {
      kind: 'inbound';
      /** The relay's PUBLIC_URL: the URL the signature covers. */
      publicUrl: string;
      authToken: string;
      /** The org's sender number without '+', as Plivo sends it. */
      to: string;
      /** One customer per lane (without '+'), so lanes do not queue on one conversation row. */
      froms: string[];
      text: string;
      /** Unique per stretch: MessageUUIDs and nonces derive from it, so no two ever repeat. */
      prefix: string;
    };

export const INBOUND_PATH = '/webhooks/plivo/inbound';

/** A signed Plivo inbound-message webhook, as Plivo would POST it. */
export function signedInbound(
  publicUrl: string,
  authToken: string,
  params: Record<string, string>,
  nonce: string,
): LoadRequest {
  return {
    method: 'POST',
    path: INBOUND_PATH,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-plivo-signature-v3': signPlivoV3('POST', `${publicUrl}${INBOUND_PATH}`, params, nonce, authToken),
      'x-plivo-signature-v3-nonce': nonce,
    },
    body: new URLSearchParams(params).toString(),
  };
}

/** Plivo's inbound form fields for one text (the ones it always sends for SMS). */
export function inboundParams(from: string, to: string, text: string, uuid: string): Record<string, string> {
  return {
    From: from,
    To: to,
    Text: text,
    Type: 'sms',
    MessageUUID: uuid,
    Units: '1',
    TotalRate: '0',
    TotalAmount: '0',
  };
}

export function requestBuilder(scenario: Scenario): (lane: number, seq: number) => LoadRequest {
  switch (scenario.kind) {
    case 'send': {
      const { recipients, rotateFrom, contactIds } = scenario;
      let next = rotateFrom ?? 0;
      return (lane, seq) => {
        const index = (rotateFrom === undefined ? lane : next++) % recipients.length;
        const contactId = contactIds?.[index];
        return {
          method: 'POST',
          path: scenario.path ?? '/v1/messages',
          headers: {
            authorization: scenario.authorization,
            'idempotency-key': `${scenario.prefix}-${lane}-${seq}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            from: scenario.from,
            to: recipients[index],
            body: scenario.body,
            ...(contactId === undefined
              ? {}
              : { contact: { crm: 'sandbox', objectType: 'contact', id: contactId } }),
          }),
        };
      };
    }
    case 'inbound':
      return (lane, seq) => {
        const id = `${scenario.prefix}-${lane}-${seq}`;
        const from = scenario.froms[lane % scenario.froms.length] ?? '';
        // The nonce is fresh for every request (the relay refuses a repeated one as a replay).
        return signedInbound(
          scenario.publicUrl,
          scenario.authToken,
          inboundParams(from, scenario.to, scenario.text, id),
          `n-${id}`,
        );
      };
  }
}
