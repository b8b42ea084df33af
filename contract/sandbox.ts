import { Type } from 'typebox';

/** One text in the phone simulator's conversation with a service number. */
export const SandboxText = Type.Object(
  {
    id: Type.Integer({ description: 'Position in the sandbox network, increasing' }),
    direction: Type.String({
      description: '"to_handset" (the relay sent it) or "from_handset" (the customer did)',
    }),
    service: Type.String({ description: 'The relay number the handset texts with (E.164)' }),
    body: Type.String({ description: 'The text' }),
    at: Type.String({ format: 'date-time', description: 'When the sandbox network carried it' }),
  },
  { description: 'A text the simulated handset sent or received' },
);

/** GET /sandbox/phone/api/state: what the phone simulator shows. */
export const SandboxPhoneState = Type.Object(
  {
    numbers: Type.Array(
      Type.Object({
        e164: Type.String({ description: 'A sender number (E.164)' }),
        org: Type.String({ description: 'The organisation that owns it' }),
      }),
      { description: 'Every sender number the handset can text' },
    ),
    handsets: Type.Array(Type.String(), { description: 'Handsets that texted lately, most recent first' }),
    messages: Type.Array(SandboxText, {
      description: 'The chosen handset’s texts, oldest first (empty if none chosen)',
    }),
  },
  { description: 'Sender numbers, recent handsets and one handset’s texts' },
);

/** POST /sandbox/phone/api/send: the simulated customer's text, as the relay received it. */
export const SandboxSendResult = Type.Object(
  {
    providerMessageId: Type.String({ description: 'The sandbox network’s id for the text' }),
    relayStatus: Type.Integer({ description: 'The HTTP status the relay’s inbound webhook answered' }),
  },
  { description: 'The simulated text was delivered to the relay' },
);
