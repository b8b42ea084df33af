import { Type } from 'typebox';

/**
 * The error envelope every refusal uses (DESIGN.md): a stable code, a sentence for people, and
 * details whose shape depends on the code. Both the relay and the extension read it from here.
 */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. CONSENT_OPTED_OUT' }),
      message: Type.String({ description: 'What went wrong, in a sentence a person can act on' }),
      details: Type.Optional(Type.Unknown({ description: 'Facts about the refusal; shape depends on code' })),
    }),
  },
  { description: 'Error envelope' },
);

/** Response entries every route declares besides its successes: any refusal or failure is an ErrorBody. */
export const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody } as const;
