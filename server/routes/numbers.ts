import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { Nullable } from '../../contract/nullable.ts';
import { NumberListSchema, SenderNumberSchema, SenderNumberTypeSchema } from '../../contract/numbers.ts';
import { requireRecentAuth } from '../auth/recent-auth.ts';
import { ApiError } from '../errors.ts';
import { type Principal, principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import {
  MAX_LABEL_LENGTH,
  registerSenderNumber,
  updateSenderNumber,
} from '../organisations/sender-number-admin.ts';
import { listSenderNumbers } from '../stores/sender-number-queries.ts';
import { PhoneInput, Uuid } from './schemas.ts';

const tags = ['numbers'];

const Label = Nullable(
  Type.String({
    maxLength: MAX_LABEL_LENGTH,
    description: 'Shown to reps beside the number; trimmed, blank or null for none',
  }),
);
const DefaultAssignee = Nullable(
  Type.String({
    format: 'uuid',
    description:
      'An active user of your organisation whose role may text: first replies to the number go to them; null: the unassigned queue',
  }),
);

const AddNumberBody = Type.Object(
  {
    number: PhoneInput,
    type: Type.Optional(SenderNumberTypeSchema),
    label: Type.Optional(Label),
    defaultAssigneeUserId: Type.Optional(DefaultAssignee),
  },
  { additionalProperties: false },
);

const UpdateNumberBody = Type.Object(
  { label: Type.Optional(Label), defaultAssigneeUserId: Type.Optional(DefaultAssignee) },
  { additionalProperties: false, minProperties: 1 },
);

const ASSIGNEE_ERRORS = ['ASSIGNEE_NOT_FOUND', 'ASSIGNEE_CANNOT_TEXT', 'INVALID_LABEL'];

/** A sender number is a person's decision: an integration's key (which could leak) changes none. */
function personOnly(p: Principal): void {
  if (p.sessionId === null)
    throw new ApiError(
      403,
      'SESSION_REQUIRED',
      'Sender numbers are changed by a signed-in person, not an API key (the CLI is for scripts).',
    );
}

/**
 * The org's sender numbers (issue #17: the admin console's numbers page). Adding one asks the SMS
 * provider first whether the relay's account holds it (and, on a relay of several organisations,
 * whether the org's own Powerpack does), and needs a sign-in within the last five minutes: a
 * number's inbound texts (replies, opt-outs) go to the organisation that registered it.
 */
export const numbersRoutes: RouteModule = (app, deps) => {
  const { db } = deps;
  app.get(
    '/v1/numbers',
    {
      config: requires('numbers.view'),
      schema: {
        summary: "List the organisation's sender numbers",
        tags,
        response: { 200: NumberListSchema, ...errorResponses },
      },
    },
    async (request) => {
      return { numbers: await listSenderNumbers(db, principalOf(request).orgId), provider: deps.sms.name };
    },
  );
  addNumberRoute(app, deps);
  updateNumberRoute(app, deps);
};

/** Adds a sender number once the SMS provider confirms the relay's account (or the org's Powerpack) holds it. */
const addNumberRoute: RouteModule = (app, { config, db, sms, clock }) => {
  app.post(
    '/v1/numbers',
    {
      config: requires('org.manage'),
      schema: {
        summary: 'Add a sender number',
        description:
          "The number may be national in the org's default country. The SMS provider is asked first whether the relay's account holds it (Plivo: rented or ported in); nothing is stored otherwise. On a relay shared by several organisations the relay's operator assigns numbers (npm run cli -- number add): an org admin adds only a number in the organisation's own Plivo Powerpack (setting plivoPowerpackUuid; not the relay's default), else 409 NUMBER_ASSIGNED_BY_OPERATOR before the provider is asked. type defaults to what the provider reports, else long_code. Only a signed-in person adds numbers, with a sign-in in the last five minutes (POST /v1/auth/reauth). Audited as number.added.",
        tags,
        body: AddNumberBody,
        response: { 201: SenderNumberSchema, ...errorResponses },
        'x-error-codes': [
          'INVALID_PHONE_NUMBER',
          'NUMBER_ASSIGNED_BY_OPERATOR',
          'NUMBER_TAKEN',
          'NUMBER_NOT_IN_POWERPACK',
          'NUMBER_NOT_OWNED',
          'NUMBER_NOT_SMS_ENABLED',
          'NUMBER_TYPE_MISMATCH',
          'SMS_PROVIDER_UNAVAILABLE',
          ...ASSIGNEE_ERRORS,
          'SESSION_REQUIRED',
          'REAUTH_REQUIRED',
        ],
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const now = clock();
      await requireRecentAuth(db, p, now);
      const { number, type, label, defaultAssigneeUserId } = request.body;
      const added = await registerSenderNumber(
        db,
        sms,
        {
          orgId: p.orgId,
          number,
          ...(type === undefined ? {} : { numberType: type }),
          label: label ?? null,
          defaultAssigneeUserId: defaultAssigneeUserId ?? null,
        },
        { actor: p.actor, at: now, ip: request.ip },
        { assignedBy: 'org-admin', relayPowerpackUuid: config.plivo?.powerpackUuid ?? null },
      );
      return reply.code(201).send(added);
    },
  );
};

/** Changes a sender number's label or default assignee. */
const updateNumberRoute: RouteModule = (app, { db, clock }) => {
  app.patch(
    '/v1/numbers/:id',
    {
      config: requires('org.manage'),
      schema: {
        summary: "Change a sender number's label or default assignee",
        description:
          'A field left out keeps its value. Only a signed-in person changes numbers (never an API key). Audited as number.updated.',
        tags,
        params: Type.Object({ id: Uuid }),
        body: UpdateNumberBody,
        response: { 200: SenderNumberSchema, ...errorResponses },
        'x-error-codes': ['NUMBER_NOT_FOUND', ...ASSIGNEE_ERRORS, 'SESSION_REQUIRED'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      personOnly(p);
      const { label, defaultAssigneeUserId } = request.body;
      return updateSenderNumber(
        db,
        {
          orgId: p.orgId,
          id: request.params.id,
          ...(label === undefined ? {} : { label }),
          ...(defaultAssigneeUserId === undefined ? {} : { defaultAssigneeUserId }),
        },
        { actor: p.actor, at: clock(), ip: request.ip },
      );
    },
  );
};
