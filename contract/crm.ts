import { Type } from 'typebox';
import { Nullable } from './nullable.ts';

/** A CRM write that failed for good, kept for an admin to replay. */
export const DeadLetter = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    crm: Type.String({ description: 'hubspot, salesforce or sandbox' }),
    kind: Type.String({
      description: 'message (history), consent (opt-in status), crm_optout or payment (a payment request)',
    }),
    subject: Type.String({ description: 'The message id, the phone, or the CRM record the write was about' }),
    errorCode: Type.String(),
    errorMessage: Type.String(),
    attempts: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    replayedAt: Nullable(Type.String({ format: 'date-time' })),
    replayedBy: Nullable(Type.String({ description: 'Who replayed it' })),
  },
  { description: 'A CRM write that failed for good' },
);

export const DeadLetterList = Type.Object(
  { deadLetters: Type.Array(DeadLetter) },
  { description: 'Dead letters, newest first' },
);

export const ReplayedDeadLetter = Type.Object(
  { deadLetter: DeadLetter },
  { description: 'The dead letter, queued again' },
);

export const OAuthStart = Type.Object(
  {
    url: Type.String({ description: 'Where to send the admin: the CRM’s consent page' }),
    expiresAt: Type.String({ format: 'date-time', description: 'When the single-use state expires' }),
  },
  { description: 'The CRM’s authorize URL for this organisation' },
);
