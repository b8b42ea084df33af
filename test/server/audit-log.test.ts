import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryHash, genesisHash } from '../../server/audit/audit-chain.ts';
import type { AuditEntryDto as Entry } from '../../server/audit/audit-queries.ts';
import { verifyOrgChain } from '../../server/audit/audit-verify.ts';
import { maskPhone } from '../../server/phone.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  CUSTOMER,
  optIn,
  seedOrg,
  signedInUser,
  type TestOrg,
  type TestRelay,
  testRelay,
  testUser,
} from '../helpers/relay.ts';

type Page = { entries: Entry[]; nextCursor: string | null };

let relay: TestRelay;
let a: TestOrg;
let b: TestOrg;
let auditorA: { userId: string; sessionId: string; auth: { authorization: string } };
let repA: { auth: { authorization: string } };
let managerA: { auth: { authorization: string } };
let auditorB: { auth: { authorization: string } };
let changedUser: string;

async function get(url: string, auth: { authorization: string }) {
  return relay.app.inject({ method: 'GET', url, headers: auth });
}

async function page(url: string, auth = auditorA.auth): Promise<Page> {
  const response = await get(url, auth);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Page;
}

beforeAll(async () => {
  relay = await testRelay(await freshPglite());
  a = await seedOrg(relay.db, { name: 'Org A' });
  b = await seedOrg(relay.db, { name: 'Org B', sender: '+12025550101' });
  const now = relay.clock();
  auditorA = await signedInUser(relay.app, relay.db, {
    orgId: a.orgId,
    email: 'aud@a.test',
    role: 'auditor',
    now,
  });
  repA = await signedInUser(relay.app, relay.db, { orgId: a.orgId, email: 'rep@a.test', role: 'rep', now });
  managerA = await signedInUser(relay.app, relay.db, {
    orgId: a.orgId,
    email: 'man@a.test',
    role: 'manager',
    now,
  });
  auditorB = await signedInUser(relay.app, relay.db, {
    orgId: b.orgId,
    email: 'aud@b.test',
    role: 'auditor',
    now,
  });
  changedUser = await testUser(relay.db, { orgId: a.orgId, email: 'moved@a.test', role: 'rep', now });
  const changed = await relay.app.inject({
    method: 'PUT',
    url: `/v1/users/${changedUser}/role`,
    headers: a.auth,
    payload: { role: 'manager' },
  });
  expect(changed.statusCode, changed.body).toBe(200);
});
afterAll(async () => {
  await relay.close();
  await relay.db.close();
});

describe('GET /v1/audit', () => {
  it("shows the org's sign-ins and role change, newest first, with readable actors and before/after", async () => {
    const { entries } = await page('/v1/audit');
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((x, y) => y - x));
    const role = entries.find((e) => e.action === 'user.role_changed');
    expect(role).toMatchObject({
      target: { type: 'user', id: changedUser },
      before: { role: 'rep' },
      after: { role: 'manager' },
      actorName: 'test key',
    });
    const signIn = entries.find((e) => e.action === 'auth.sign_in' && e.actor === `user:${auditorA.userId}`);
    expect(signIn?.actorName).toBe('aud@a.test');
    expect(signIn?.ip).toEqual(expect.any(String));
  });

  it("never shows another org's entries: org B's auditor sees only org B", async () => {
    const mine = await page('/v1/audit?limit=500');
    const theirs = await page('/v1/audit?limit=500', auditorB.auth);
    const hashesA = new Set(mine.entries.map((e) => e.hash));
    expect(theirs.entries.length).toBeGreaterThan(0);
    expect(theirs.entries.some((e) => hashesA.has(e.hash))).toBe(false);
    expect(theirs.entries.some((e) => e.actor === `user:${auditorA.userId}`)).toBe(false);
    const asked = await page(`/v1/audit?actor=user:${auditorA.userId}`, auditorB.auth);
    expect(asked.entries).toEqual([]);
  });

  it('pages with a cursor through every entry exactly once', async () => {
    const all = (await page('/v1/audit?limit=500')).entries.map((e) => e.seq);
    const seen: number[] = [];
    let url = '/v1/audit?limit=2';
    for (;;) {
      const p = await page(url);
      seen.push(...p.entries.map((e) => e.seq));
      if (p.nextCursor === null) break;
      url = `/v1/audit?limit=2&cursor=${encodeURIComponent(p.nextCursor)}`;
    }
    expect(seen).toEqual(all);
  });

  it('filters by action (exact or dotted prefix), actor and time', async () => {
    const roles = await page('/v1/audit?action=user.role_changed');
    expect(roles.entries.map((e) => e.action)).toEqual(['user.role_changed']);
    const auth = await page('/v1/audit?action=auth.');
    expect(auth.entries.length).toBeGreaterThan(0);
    expect(auth.entries.every((e) => e.action.startsWith('auth.'))).toBe(true);
    const actor = await page(`/v1/audit?actor=user:${auditorA.userId}`);
    expect(actor.entries.length).toBeGreaterThan(0);
    expect(actor.entries.every((e) => e.actor === `user:${auditorA.userId}`)).toBe(true);
    const at = new Date(roles.entries[0]?.occurredAt ?? '').getTime();
    const window = await page(
      `/v1/audit?from=${new Date(at).toISOString()}&to=${new Date(at + 1).toISOString()}&action=user.role_changed`,
    );
    expect(window.entries).toHaveLength(1);
    const later = await page(`/v1/audit?from=${new Date(at + 1).toISOString()}&action=user.role_changed`);
    expect(later.entries).toEqual([]);
  });

  it('records a consent change with the number masked, and never shows the number to an auditor', async () => {
    await optIn(relay.app, a, CUSTOMER);
    const response = await get('/v1/audit?action=consent.recorded', auditorA.auth);
    const { entries } = response.json() as Page;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      action: 'consent.recorded',
      target: { type: 'consent_event' },
      detail: { kind: 'opt_in', source: 'web_form', phone: maskPhone(CUSTOMER) },
    });
    expect(response.body).not.toContain(CUSTOMER.slice(1));
  });

  it.each([
    ['from=yesterday', 'from'],
    ['from=2026-13-40T00:00:00Z', 'from'],
    ['from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', 'to'],
    ['action=DROP%20TABLE', 'action'],
    ['actor=user:1%27%20OR%201=1', 'actor'],
  ])('refuses the bad filter %s with INVALID_FILTER', async (query, field) => {
    const response = await get(`/v1/audit?${query}`, auditorA.auth);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: { code: 'INVALID_FILTER', message: expect.any(String), details: { field } },
    });
  });

  it('refuses a cursor it did not hand out with INVALID_CURSOR', async () => {
    for (const cursor of ['bm9wZQ', Buffer.from('audit:-1').toString('base64url'), '%00']) {
      const response = await get(`/v1/audit?cursor=${cursor}`, auditorA.auth);
      expect(response.statusCode).toBe(400);
      expect((response.json() as { error: { code: string } }).error.code).toBe('INVALID_CURSOR');
    }
  });

  it('refuses a rep (403) and a manager, who may export other reports, cannot export the audit log', async () => {
    const rep = await get('/v1/audit', repA.auth);
    expect(rep.statusCode).toBe(403);
    expect(rep.json()).toMatchObject({ error: { code: 'FORBIDDEN', details: { permission: 'audit.view' } } });
    const manager = await get('/v1/audit/export', managerA.auth);
    expect(manager.statusCode).toBe(403);
  });
});

describe('GET /v1/audit/export', () => {
  it('streams CSV with a header and one row per entry, and records the export itself', async () => {
    const before = (await page('/v1/audit?limit=500')).entries.length;
    const response = await get('/v1/audit/export?format=csv', auditorA.auth);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const lines = response.body.split('\r\n').filter((l) => l !== '');
    expect(lines[0]).toBe(
      'seq,occurredAt,actor,actorName,action,targetType,targetId,before,after,detail,ip,prevHash,hash',
    );
    // The export is recorded before the rows are read, so it is the last row.
    expect(lines).toHaveLength(before + 2);
    expect(lines[lines.length - 1]).toContain(',export.audit,');
    const [newest] = (await page('/v1/audit?limit=1')).entries;
    expect(newest).toMatchObject({
      action: 'export.audit',
      actor: `user:${auditorA.userId}`,
      detail: { format: 'csv' },
    });
  });

  it('streams JSON lines whose hashes an auditor can check offline, oldest first', async () => {
    const response = await get('/v1/audit/export?format=jsonl&action=auth.', auditorA.auth);
    expect(response.statusCode).toBe(200);
    const all = (await get('/v1/audit/export?format=jsonl', auditorA.auth)).body.trim().split('\n');
    let prev = genesisHash(a.orgId);
    for (const line of all) {
      const e = JSON.parse(line) as Entry;
      expect(e.prevHash).toBe(prev);
      const fields = {
        ...e,
        orgId: a.orgId,
        targetType: e.target?.type ?? null,
        targetId: e.target?.id ?? null,
        occurredAt: new Date(e.occurredAt),
      };
      expect(entryHash(fields, e.prevHash)).toBe(e.hash);
      prev = e.hash;
    }
    expect(await verifyOrgChain(relay.db, a.orgId)).toMatchObject({ broken: null, entries: all.length });
  });

  it('says whether the chain is whole, and names the entry an attacker with database access edited', async () => {
    const intact = await get('/v1/audit/verify', auditorA.auth);
    expect(intact.statusCode, intact.body).toBe(200);
    const verdict = intact.json() as { entries: number; intact: boolean; headHash: string | null };
    expect(verdict).toMatchObject({ intact: true, broken: null });
    expect(verdict.entries).toBeGreaterThan(0);
    // Org B's verdict counts only its own chain.
    const theirs = (await get('/v1/audit/verify', auditorB.auth)).json() as { entries: number };
    expect(theirs.entries).toBeLessThan(verdict.entries);
    expect((await get('/v1/audit/verify', repA.auth)).statusCode).toBe(403);

    const edit = async (name: string) => {
      await relay.db.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
      await relay.db.query('UPDATE audit_log SET actor_name = $2 WHERE org_id = $1 AND seq = 2', [
        a.orgId,
        name,
      ]);
      await relay.db.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
    };
    const [original] = await relay.db.query<{ actor_name: string }>(
      'SELECT actor_name FROM audit_log WHERE org_id = $1 AND seq = 2',
      [a.orgId],
    );
    await edit('nobody');
    const broken = (await get('/v1/audit/verify', auditorA.auth)).json();
    expect(broken).toMatchObject({ intact: false, broken: { seq: 2, problem: 'edited' } });
    // Put it back, so the tests after this one read an intact chain.
    await edit(original?.actor_name ?? '');
    expect((await get('/v1/audit/verify', auditorA.auth)).json()).toMatchObject({ intact: true });
  });

  it('refuses an unknown format with INVALID_FILTER', async () => {
    const response = await get('/v1/audit/export?format=xlsx', auditorA.auth);
    expect(response.statusCode).toBe(400);
    expect((response.json() as { error: { code: string } }).error.code).toBe('INVALID_FILTER');
  });
});

describe('a revoked session', () => {
  it('is refused (401) though its role may read the log', async () => {
    const revoked = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${auditorA.sessionId}`,
      headers: auditorA.auth,
    });
    expect(revoked.statusCode).toBe(204);
    expect((await get('/v1/audit', auditorA.auth)).statusCode).toBe(401);
    expect((await get('/v1/audit/export', auditorA.auth)).statusCode).toBe(401);
  });
});

describe('where an admin acted from', () => {
  it('records where an admin acted from: inviting, changing a role, creating a role and deactivating carry the IP', async () => {
    const from = { remoteAddress: '203.0.113.9' };
    const invited = await relay.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: a.auth,
      payload: { email: 'ip@a.test', role: 'rep' },
      ...from,
    });
    expect(invited.statusCode, invited.body).toBe(201);
    const userId = (invited.json() as { user: { id: string } }).user.id;
    const steps = [
      { method: 'PUT' as const, url: `/v1/users/${userId}/role`, payload: { role: 'manager' } },
      {
        method: 'POST' as const,
        url: '/v1/roles',
        payload: { name: 'ip_role', permissions: ['messages.send'] },
      },
      { method: 'POST' as const, url: `/v1/users/${userId}/deactivate` },
    ];
    for (const step of steps) {
      const response = await relay.app.inject({ ...step, headers: a.auth, ...from });
      expect(response.statusCode, response.body).toBeLessThan(300);
    }
    const { entries } = await page('/v1/audit?limit=50', a.auth);
    for (const action of ['user.created', 'user.role_changed', 'role.created', 'user.deactivated']) {
      const entry = entries.find(
        (e) => e.action === action && (e.target?.id === userId || action === 'role.created'),
      );
      expect(entry?.ip, action).toBe('203.0.113.9');
    }
  });
});
