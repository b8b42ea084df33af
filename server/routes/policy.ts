import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import {
  PolicyAcknowledgedSchema,
  PolicyAcknowledgementListSchema,
  PolicyPublishedSchema,
  TextingPolicySchema,
} from '../../contract/policy.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { readOrgSettings } from '../organisations/org-settings-admin.ts';
import {
  acknowledgementList,
  acknowledgePolicy,
  currentPolicy,
  MAX_POLICY_LENGTH,
  policyStanding,
  publishPolicy,
} from '../policy/texting-policy.ts';

const tags = ['policy'];
const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/**
 * The org's texting policy (issue #17, item 6): everyone reads it and acknowledges it, before their
 * first text where the org requires it (requirePolicyAcknowledgement), again when it changes and
 * yearly; admins edit it and see who has not acknowledged.
 */
export const policyRoutes: RouteModule = (app, deps) => {
  readPolicyRoutes(app, deps);
  policyAdminRoutes(app, deps);
};

/** Reading the policy and acknowledging it: everyone. */
const readPolicyRoutes: RouteModule = (app, { db, clock }) => {
  app.get(
    '/v1/policy',
    {
      config: requires('account.self'),
      schema: {
        summary: "The org's texting policy, and whether you acknowledged it",
        tags,
        response: { 200: TextingPolicySchema, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const policy = await currentPolicy(db, p.orgId);
      const settings = (await readOrgSettings(db, p.orgId)) as { requirePolicyAcknowledgement?: unknown };
      const [mine] =
        p.userId === null
          ? []
          : await db.query<{
              policy_acknowledged_version: number | null;
              policy_acknowledged_at: Date | null;
            }>(
              'SELECT policy_acknowledged_version, policy_acknowledged_at FROM users WHERE id = $1 AND org_id = $2',
              [p.userId, p.orgId],
            );
      const acknowledgedVersion = mine?.policy_acknowledged_version ?? null;
      const acknowledgedAt =
        mine?.policy_acknowledged_at == null ? null : new Date(mine.policy_acknowledged_at);
      return {
        version: policy.version,
        body: policy.body,
        publishedAt: iso(policy.publishedAt),
        required: settings.requirePolicyAcknowledgement === true,
        acknowledgedVersion,
        acknowledgedAt: iso(acknowledgedAt),
        standing: policyStanding({ version: policy.version, acknowledgedVersion, acknowledgedAt }, clock()),
      };
    },
  );

  app.post(
    '/v1/policy/acknowledge',
    {
      config: requires('account.self'),
      schema: {
        summary: 'Acknowledge the texting policy you read',
        description:
          'Send the version you were shown; a newer one is refused (POLICY_CHANGED). Only a signed-in person acknowledges, never an API key. Audited as policy.acknowledged.',
        tags,
        body: Type.Object(
          { version: Type.Integer({ minimum: 1, maximum: 1_000_000 }) },
          { additionalProperties: false },
        ),
        response: { 200: PolicyAcknowledgedSchema, ...errorResponses },
        'x-error-codes': ['POLICY_CHANGED', 'SESSION_REQUIRED'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      if (p.sessionId === null || p.userId === null)
        throw new ApiError(
          403,
          'SESSION_REQUIRED',
          'A person acknowledges the policy: sign in and read it; an API key cannot.',
        );
      const answer = await acknowledgePolicy(db, {
        orgId: p.orgId,
        userId: p.userId,
        version: request.body.version,
        actor: p.actor,
        at: clock(),
        ip: request.ip,
      });
      return { version: answer.version, acknowledgedAt: answer.acknowledgedAt.toISOString() };
    },
  );
};

/** Publishing a new version and seeing who has acknowledged: admins. */
const policyAdminRoutes: RouteModule = (app, { db, clock }) => {
  app.put(
    '/v1/policy',
    {
      config: requires('org.manage'),
      schema: {
        summary: 'Publish a new version of the texting policy',
        description:
          'Everyone acknowledges the new version before their next text. Audited as policy.published.',
        tags,
        body: Type.Object(
          { body: Type.String({ minLength: 1, maxLength: MAX_POLICY_LENGTH }) },
          { additionalProperties: false },
        ),
        response: { 200: PolicyPublishedSchema, ...errorResponses },
        'x-error-codes': ['INVALID_POLICY', 'POLICY_UNCHANGED'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const policy = await publishPolicy(db, {
        orgId: p.orgId,
        body: request.body.body,
        actor: p.actor,
        at: clock(),
        ip: request.ip,
      });
      return { version: policy.version, publishedAt: policy.publishedAt.toISOString() };
    },
  );

  app.get(
    '/v1/policy/acknowledgements',
    {
      config: requires('users.manage'),
      schema: {
        summary: 'Who has acknowledged the current texting policy',
        description: 'Every active person; those who have not (or not this version, or not this year) first.',
        tags,
        response: { 200: PolicyAcknowledgementListSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { orgId } = principalOf(request);
      const { version, people } = await acknowledgementList(db, orgId, clock());
      return {
        version,
        people: people.map((r) => ({ ...r, acknowledgedAt: iso(r.acknowledgedAt) })),
      };
    },
  );
};
