import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrmError } from '../../crm-plugins/errors.ts';
import type { CrmRegistry } from '../../crm-plugins/registry.ts';
import type { CrmPlugin } from '../../crm-plugins/types.ts';
import { freshPglite } from '../helpers/db.ts';
import { seedOrg, signedInUser, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';

// Issue #17 (1): installing the CRM plugin from the admin console: the plan, then the install,
// audited; against the installation's sandbox CRM (the HubSpot and Salesforce plugins pass the same
// contract suite, test/crm-plugins/contract.test.ts).
describe('CRM install routes', () => {
  let relay: TestRelay;
  let org: TestOrg;
  beforeAll(async () => {
    relay = await testRelay(await freshPglite());
    org = await seedOrg(relay.db, { name: 'Acme Dental' });
  });
  afterAll(async () => {
    await relay.close();
    await relay.db.close();
  });

  const call = (method: 'GET' | 'POST', url: string, auth = org.auth) =>
    relay.app.inject({ method, url, headers: auth });

  it('plans, installs what is missing, and finds it all there the second time', async () => {
    const plan = await call('GET', '/v1/admin/crm/sandbox/install-plan');
    expect(plan.statusCode, plan.body).toBe(200);
    const steps = plan.json().steps as { action: string; target: string }[];
    expect(steps.length).toBeGreaterThan(0);
    const first = await call('POST', '/v1/admin/crm/sandbox/install');
    expect(first.statusCode, first.body).toBe(200);
    expect([...first.json().created, ...first.json().alreadyPresent].sort()).toEqual(
      steps.map((s) => s.target).sort(),
    );
    const again = await call('POST', '/v1/admin/crm/sandbox/install');
    expect(again.json().created).toEqual([]);
    const replan = (await call('GET', '/v1/admin/crm/sandbox/install-plan')).json().steps as {
      action: string;
    }[];
    expect(replan.every((s) => s.action === 'exists')).toBe(true);
    const [entry] = await relay.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE org_id = $1 AND action = 'crm.installed'`,
      [org.orgId],
    );
    expect(entry?.n).toBe(2);
  });

  it('refuses a CRM the org has not connected, and a rep', async () => {
    const hubspot = await call('POST', '/v1/admin/crm/hubspot/install');
    expect(hubspot.statusCode).toBe(409);
    expect(hubspot.json().error.code).toBe('CRM_NOT_CONNECTED');
    const rep = await signedInUser(relay.app, relay.db, {
      orgId: org.orgId,
      email: 'rita@acme.test',
      role: 'rep',
      now: relay.clock(),
    });
    expect((await call('POST', '/v1/admin/crm/sandbox/install', rep.auth)).statusCode).toBe(403);
  });
});

describe('installing step by step (a fresh sandbox CRM)', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await testRelay(await freshPglite());
  });
  afterAll(async () => {
    await relay.close();
    await relay.db.close();
  });

  it('installs one step at a time when asked (the console’s progress), and refuses a step the plan lacks', async () => {
    const other = await seedOrg(relay.db, { name: 'Bright Smiles' });
    const readPlan = async () =>
      (
        await relay.app.inject({
          method: 'GET',
          url: '/v1/admin/crm/sandbox/install-plan',
          headers: other.auth,
        })
      ).json().steps as { target: string; action: string }[];
    const steps = await readPlan();
    const install = (body: object) =>
      relay.app.inject({
        method: 'POST',
        url: '/v1/admin/crm/sandbox/install',
        headers: other.auth,
        payload: body,
      });
    const bogus = await install({ steps: [steps[0]?.target, 'contact.not_a_field'] });
    expect(bogus.statusCode).toBe(400);
    expect(bogus.json().error).toMatchObject({
      code: 'UNKNOWN_INSTALL_STEP',
      details: { unknown: ['contact.not_a_field'] },
    });
    // The refused request installed nothing, not even the step it named rightly.
    expect(await readPlan()).toEqual(steps);
    const one = await install({ steps: [steps[0]?.target] });
    expect(one.statusCode, one.body).toBe(200);
    // The installation's sandbox CRM comes installed; the CRM plugins' contract suite shows a narrowed
    // plan creating its own step only (test/crm-plugins/contract.test.ts).
    expect([...one.json().created, ...one.json().alreadyPresent]).toEqual([steps[0]?.target]);
    expect((await install({ steps: [] })).statusCode).toBe(400);
  });
});

describe('a CRM that refuses the install', () => {
  it('answers 502 CRM_UNAVAILABLE with the CRM’s reason, never a 500', async () => {
    // The connection's token lacks the schema scope: the plugin reports it as CrmError('forbidden').
    const refusing = {
      id: 'hubspot',
      label: 'HubSpot',
      planInstall: async () => {
        throw new CrmError(
          'hubspot',
          'forbidden',
          'missing scope crm.schemas.contacts.write',
          'MISSING_SCOPES',
          403,
        );
      },
    } as unknown as CrmPlugin;
    const crms: CrmRegistry = { get: (id) => (id === 'hubspot' ? refusing : null), list: () => [refusing] };
    const relay = await testRelay(await freshPglite(), { crms });
    try {
      const org = await seedOrg(relay.db, { name: 'Acme Dental' });
      for (const [method, url] of [
        ['GET', '/v1/admin/crm/hubspot/install-plan'],
        ['POST', '/v1/admin/crm/hubspot/install'],
      ] as const) {
        const answer = await relay.app.inject({ method, url, headers: org.auth });
        expect(answer.statusCode, url).toBe(502);
        expect(answer.json().error).toMatchObject({
          code: 'CRM_UNAVAILABLE',
          details: { crm: 'hubspot', crmError: 'forbidden', retryable: false },
        });
        expect(answer.body).not.toContain('crm.schemas');
      }
    } finally {
      await relay.close();
      await relay.db.close();
    }
  });
});
