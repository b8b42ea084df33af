import type { FastifyBaseLogger } from 'fastify';
import { Type } from 'typebox';
import { CrmInstallPlanSchema, CrmInstallReportSchema } from '../../contract/crm.ts';
import { errorResponses } from '../../contract/errors.ts';
import { CrmError } from '../../crm-plugins/errors.ts';
import type { CrmPlugin, InstallPlan } from '../../crm-plugins/types.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { crmUnavailable } from '../crm-sync/crm-unavailable.ts';
import { ApiError } from '../errors.ts';
import { principalOf, requires } from '../http/access.ts';
import type { Deps, RouteModule } from '../http/services.ts';

const CrmParams = Type.Object({
  crm: Type.Union([Type.Literal('hubspot'), Type.Literal('salesforce'), Type.Literal('sandbox')]),
});

/** The org's plugin for that CRM (its own connection, else the installation's), or CRM_NOT_CONNECTED. */
async function pluginFor(deps: Deps, orgId: string, crm: string): Promise<CrmPlugin> {
  const plugin = (await deps.crm.forOrg(orgId, { fresh: true })).get(
    crm as 'hubspot' | 'salesforce' | 'sandbox',
  );
  if (plugin === null)
    throw new ApiError(
      409,
      'CRM_NOT_CONNECTED',
      `${crm} is not connected for your organisation; connect it first.`,
      {
        crm,
      },
    );
  return plugin;
}

/** Runs a CRM call; the CRM's refusal (a missing scope, an expired token, a rate limit) is 502 CRM_UNAVAILABLE. */
async function askCrm<T>(plugin: CrmPlugin, log: FastifyBaseLogger, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CrmError) throw crmUnavailable(plugin, error, log, 'CRM install');
    throw error;
  }
}

/** Install everything, or only the plan's steps named (the console installs one at a time, showing each). */
const InstallBody = Type.Union([
  Type.Object(
    {
      steps: Type.Optional(
        Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
          minItems: 1,
          maxItems: 200,
          uniqueItems: true,
          description: 'Targets from the install plan; all of them when left out',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

/** The plan narrowed to the targets asked for; a target the plan does not hold is refused, nothing installed. */
function chosenSteps(plan: InstallPlan, only: readonly string[] | undefined): InstallPlan {
  if (only === undefined) return plan;
  const known = new Set(plan.steps.map((s) => s.target));
  const unknown = only.filter((t) => !known.has(t));
  if (unknown.length > 0)
    throw new ApiError(
      400,
      'UNKNOWN_INSTALL_STEP',
      `The install plan has no step ${unknown.join(', ')}; read the plan again (GET …/install-plan).`,
      { unknown },
    );
  return { ...plan, steps: plan.steps.filter((s) => only.includes(s.target)) };
}

/**
 * Installing the CRM plugin from the admin console (issue #17, item 1): the plan (each field and
 * permission, to create or already there; nothing changes), then the install, which reports what it
 * created and is audited as crm.installed, as `npm run cli -- crm install` does.
 */
export const crmInstallRoutes: RouteModule = (app, deps) => {
  app.get(
    '/v1/admin/crm/:crm/install-plan',
    {
      config: requires('org.manage'),
      schema: {
        summary: 'What installing the CRM plugin would create',
        description: 'Reads the CRM’s schema; changes nothing.',
        tags: ['crm'],
        params: CrmParams,
        response: { 200: CrmInstallPlanSchema, ...errorResponses },
        'x-error-codes': ['CRM_NOT_CONNECTED', 'CRM_UNAVAILABLE'],
      },
    },
    async (request) => {
      const plugin = await pluginFor(deps, principalOf(request).orgId, request.params.crm);
      return askCrm(plugin, request.log, () => plugin.planInstall());
    },
  );

  app.post(
    '/v1/admin/crm/:crm/install',
    {
      config: requires('org.manage'),
      schema: {
        summary: 'Install the CRM plugin: create its fields and permissions',
        description:
          'Creates what the plan lists as missing; what exists is left as it is. Audited as crm.installed.',
        tags: ['crm'],
        params: CrmParams,
        body: InstallBody,
        response: { 200: CrmInstallReportSchema, ...errorResponses },
        'x-error-codes': ['CRM_NOT_CONNECTED', 'CRM_UNAVAILABLE', 'UNKNOWN_INSTALL_STEP'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { crm } = request.params;
      const only = request.body?.steps;
      const plugin = await pluginFor(deps, p.orgId, crm);
      const report = await askCrm(plugin, request.log, async () =>
        plugin.install(chosenSteps(await plugin.planInstall(), only)),
      );
      // Recorded once the CRM said yes: its schema change is not ours to roll back.
      await appendAudit(deps.db, {
        orgId: p.orgId,
        actor: p.actor,
        action: 'crm.installed',
        target: { type: 'crm', id: crm },
        at: deps.clock(),
        detail: {
          crm,
          created: report.created.length,
          alreadyPresent: report.alreadyPresent.length,
          ...(only === undefined ? {} : { steps: only }),
        },
        ip: request.ip,
      });
      return { crm, created: report.created, alreadyPresent: report.alreadyPresent };
    },
  );
};
