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

/** One CRM connection's sync health (GET /v1/admin/crm/status), as `npm run cli -- crm status` says it. */
export const CrmConnectionStatusSchema = Type.Object(
  {
    connectionId: Type.String({ format: 'uuid' }),
    crm: Type.String({ description: 'hubspot, salesforce or sandbox' }),
    status: Type.String({ description: 'connected, or why not' }),
    statusDetail: Nullable(Type.String()),
    health: Type.Object(
      { ok: Type.Boolean(), detail: Type.String() },
      { description: "The CRM's answer to the plugin's health check, just now" },
    ),
    queue: Type.Record(Type.String(), Type.Integer(), { description: 'Waiting sync jobs by kind.state' }),
    queueDepth: Type.Integer(),
    deadLetters: Type.Integer({ description: 'Writes that failed for good and were not replayed' }),
    pausedUntil: Nullable(Type.String({ format: 'date-time', description: 'Backing off a rate limit' })),
    backfill: Nullable(
      Type.Object(
        { queued: Type.Integer(), done: Type.Boolean() },
        { description: 'The history backfill: texts queued so far, and whether it finished' },
      ),
    ),
  },
  { description: "A CRM connection's sync health" },
);

export const CrmStatusList = Type.Object(
  { connections: Type.Array(CrmConnectionStatusSchema) },
  { description: "The org's CRM connections" },
);

const InstallStepSchema = Type.Object({
  kind: Type.String({ description: 'property, property_group, custom_field, permission_set, …' }),
  target: Type.String({ description: 'The field or setting, e.g. contacts.sms_consent_status' }),
  action: Type.Union([Type.Literal('create'), Type.Literal('exists')]),
  description: Type.String(),
});

/** What installing the plugin would change in the CRM (GET …/install-plan); nothing is changed. */
export const CrmInstallPlanSchema = Type.Object(
  { crm: Type.String(), steps: Type.Array(InstallStepSchema) },
  { description: 'The install plan: each field or setting, to create or already there' },
);

/** What installing changed (POST …/install). */
export const CrmInstallReportSchema = Type.Object(
  {
    crm: Type.String(),
    created: Type.Array(Type.String(), { description: 'Targets created now' }),
    alreadyPresent: Type.Array(Type.String(), { description: 'Targets that were there already' }),
  },
  { description: 'The install, done' },
);
