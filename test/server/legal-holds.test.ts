import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyForOrg } from '../../server/organisations/org-admin.ts';
import { readOrgSettings, setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { cliOn } from '../helpers/cli.ts';
import { freshPgliteRelay, seedOrg, type TestOrg, type TestRelay } from '../helpers/relay.ts';

let relay: TestRelay;
let a: TestOrg;
let b: TestOrg;
let repA: { authorization: string };
let conversationA: string;

const PHONE = '+12025550181';

async function holdRows(orgId: string) {
  return relay.db.query('SELECT * FROM legal_holds WHERE org_id = $1 ORDER BY id', [orgId]);
}

async function auditActions(orgId: string): Promise<string[]> {
  const rows = await relay.db.query<{ action: string }>(
    'SELECT action FROM audit_log WHERE org_id = $1 ORDER BY seq',
    [orgId],
  );
  return rows.map((r) => r.action);
}

beforeAll(async () => {
  relay = await freshPgliteRelay();
  a = await seedOrg(relay.db, { name: 'Holds A' });
  b = await seedOrg(relay.db, { name: 'Holds B', sender: '+12025550199' });
  const { key } = await createKeyForOrg(relay.db, { orgId: a.orgId, role: 'rep', name: 'rep key' });
  repA = { authorization: `Bearer ${key}` };
  const [sender] = await relay.db.query<{ id: string }>('SELECT id FROM sender_numbers WHERE org_id = $1', [
    a.orgId,
  ]);
  conversationA = randomUUID();
  await relay.db.query(
    'INSERT INTO conversations (id, org_id, sender_number_id, contact_phone) VALUES ($1, $2, $3, $4)',
    [conversationA, a.orgId, sender?.id, phoneToken(relay.db, PHONE)],
  );
});

afterAll(async () => {
  await relay.close();
  await relay.db.close();
});

const post = (auth: { authorization: string }, url: string, payload?: Record<string, unknown>) =>
  relay.app.inject({ method: 'POST', url, headers: auth, ...(payload === undefined ? {} : { payload }) });

describe('legal holds over HTTP', () => {
  it('places a hold on a phone and on a conversation, lists and releases them, each audited', async () => {
    const byPhone = await post(a.auth, '/v1/legal-holds', { phone: '(202) 555-0181', reason: 'Matter 7' });
    expect(byPhone.statusCode).toBe(201);
    const phoneHold = byPhone.json().hold;
    expect(phoneHold).toMatchObject({
      target: { type: 'phone', phone: PHONE },
      reason: 'Matter 7',
      releasedAt: null,
    });
    expect(phoneHold.createdAt).toBe(
      relay.clock().toISOString().slice(0, 10) + phoneHold.createdAt.slice(10),
    );

    const byConv = await post(a.auth, '/v1/legal-holds', {
      conversationId: conversationA,
      reason: 'Subpoena',
    });
    expect(byConv.statusCode).toBe(201);

    const list = await relay.app.inject({
      method: 'GET',
      url: '/v1/legal-holds?active=true',
      headers: a.auth,
    });
    expect(list.statusCode).toBe(200);
    expect(list.json().holds).toHaveLength(2);

    const released = await post(a.auth, `/v1/legal-holds/${phoneHold.id}/release`);
    expect(released.statusCode).toBe(200);
    expect(released.json().hold.releasedAt).not.toBeNull();
    const again = await post(a.auth, `/v1/legal-holds/${phoneHold.id}/release`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('HOLD_ALREADY_RELEASED');

    const active = await relay.app.inject({
      method: 'GET',
      url: '/v1/legal-holds?active=true',
      headers: a.auth,
    });
    expect(active.json().holds).toHaveLength(1);
    const actions = await auditActions(a.orgId);
    expect(actions.filter((x) => x === 'legal_hold.placed')).toHaveLength(2);
    expect(actions.filter((x) => x === 'legal_hold.released')).toHaveLength(1);
  });

  it('refuses a role without org.manage with 403 and stores nothing', async () => {
    const before = await holdRows(a.orgId);
    const placed = await post(repA, '/v1/legal-holds', { phone: PHONE, reason: 'rep tries' });
    expect(placed.statusCode).toBe(403);
    const listed = await relay.app.inject({ method: 'GET', url: '/v1/legal-holds', headers: repA });
    expect(listed.statusCode).toBe(403);
    const hold = (before[0] as { id: string }).id;
    const released = await post(repA, `/v1/legal-holds/${hold}/release`);
    expect(released.statusCode).toBe(403);
    expect(await holdRows(a.orgId)).toEqual(before);
  });

  it("cannot see, release or hold another organisation's data", async () => {
    const before = await holdRows(a.orgId);
    const active = before.find((h) => (h as { released_at: Date | null }).released_at === null) as {
      id: string;
    };
    const release = await post(b.auth, `/v1/legal-holds/${active.id}/release`);
    expect(release.statusCode).toBe(404);
    expect(release.json().error.code).toBe('HOLD_NOT_FOUND');
    const conv = await post(b.auth, '/v1/legal-holds', { conversationId: conversationA, reason: 'not mine' });
    expect(conv.statusCode).toBe(404);
    expect(conv.json().error.code).toBe('CONVERSATION_NOT_FOUND');
    const list = await relay.app.inject({ method: 'GET', url: '/v1/legal-holds', headers: b.auth });
    expect(list.json().holds).toEqual([]);
    expect(await holdRows(a.orgId)).toEqual(before);
    expect(await holdRows(b.orgId)).toEqual([]);
  });

  it('answers bad input with stable codes and changes nothing', async () => {
    const before = await holdRows(a.orgId);
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ reason: 'no target' }, 400, 'INVALID_HOLD'],
      [{ phone: PHONE, conversationId: conversationA, reason: 'both' }, 400, 'INVALID_HOLD'],
      [{ phone: PHONE, reason: '   ' }, 400, 'INVALID_HOLD'],
      [{ phone: 'not a phone', reason: 'x' }, 422, 'INVALID_PHONE_NUMBER'],
      [{ conversationId: randomUUID(), reason: 'x' }, 404, 'CONVERSATION_NOT_FOUND'],
    ];
    for (const [payload, status, code] of cases) {
      const answer = await post(a.auth, '/v1/legal-holds', payload);
      expect([answer.statusCode, answer.json().error?.code]).toEqual([status, code]);
    }
    const unknown = await post(a.auth, `/v1/legal-holds/${randomUUID()}/release`);
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'HOLD_NOT_FOUND']);
    expect(await holdRows(a.orgId)).toEqual(before);
  });
});

describe('retention settings', () => {
  const by = { actor: 'test', at: new Date(0) };
  const set = (key: string, value: string | null) =>
    relay.db.transaction((tx) => setOrgSetting(tx, b.orgId, key, value, by));

  it('refuses bad periods with INVALID_SETTING and keeps the policy as it was', async () => {
    await set('retention.messageBodyDays', '30');
    await set('retention.metadataDays', '90');
    const before = await readOrgSettings(relay.db, b.orgId);
    for (const [key, value] of [
      ['retention.messageBodyDays', '-1'],
      ['retention.messageBodyDays', '0'],
      ['retention.messageBodyDays', '3651'],
      ['retention.messageBodyDays', '120'], // longer than metadata
      ['retention.metadataDays', '10'], // shorter than bodies
      ['retention.metadataDays', 'forever'],
      ['retention.purgeCrmCopy', 'yes'],
    ] as const) {
      await expect(set(key, value)).rejects.toMatchObject({ code: 'INVALID_SETTING' });
    }
    await expect(set('retention.bogus', '1')).rejects.toMatchObject({ code: 'UNKNOWN_SETTING' });
    expect(await readOrgSettings(relay.db, b.orgId)).toEqual(before);
    expect(before).toMatchObject({ retention: { messageBodyDays: 30, metadataDays: 90 } });
  });
});

describe('retention CLI', () => {
  const run = (...argv: string[]) => cliOn({ db: relay.db, config: relay.config }, ...argv);

  it('places, lists and releases a hold, and dry-runs the policy with --json', async () => {
    const placed = await run(
      'retention',
      'hold',
      '--org',
      b.orgId,
      '--phone',
      '+12025550182',
      '--reason',
      'CLI',
      '--json',
    );
    expect(placed.code).toBe(0);
    const { hold } = JSON.parse(placed.out);
    expect(hold.createdBy).toBe('cli');
    const listed = await run('retention', 'holds', '--org', b.orgId, '--active');
    expect(listed.out).toContain(hold.id);
    const released = await run('retention', 'release', '--org', b.orgId, '--hold', hold.id, '--json');
    expect(released.code).toBe(0);
    expect(JSON.parse(released.out).hold.releasedBy).toBe('cli');
    const dry = await run('retention', 'run', '--org', b.orgId, '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.out).report).toMatchObject({ dryRun: true, messagesDeleted: 0, bodiesPurged: 0 });
  });

  it('refuses bad input with stable codes and changes nothing', async () => {
    const before = await holdRows(a.orgId);
    const unknown = await run('retention', 'release', '--org', a.orgId, '--hold', randomUUID(), '--json');
    expect(unknown.code).not.toBe(0);
    expect(JSON.parse(unknown.out).error.code).toBe('HOLD_NOT_FOUND');
    const active = before.find((h) => (h as { released_at: Date | null }).released_at === null) as {
      id: string;
    };
    const foreign = await run('retention', 'release', '--org', b.orgId, '--hold', active.id, '--json');
    expect(JSON.parse(foreign.out).error.code).toBe('HOLD_NOT_FOUND');
    const badOrg = await run('retention', 'run', '--org', 'nope', '--dry-run');
    expect(badOrg.code).not.toBe(0);
    expect(badOrg.err).toContain('--org must be an organisation id');
    const both = await run(
      'retention',
      'hold',
      '--org',
      a.orgId,
      '--phone',
      PHONE,
      '--conversation',
      conversationA,
      '--reason',
      'x',
    );
    expect(both.code).not.toBe(0);
    expect(await holdRows(a.orgId)).toEqual(before);
  });
});
