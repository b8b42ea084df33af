import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import { sampleConversations } from '../../server/review/review-sampler.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

// The review queue (issue #18, item 4): refused sends, overrides, redactions, unclear replies and
// escalations land in it as they happen, plus a random sample of each day's conversations; a
// reviewer marks each OK or acts on it (coach, opt out, escalate), and every decision is audited.
postgresSkipNote('review queue');

type Auth = { authorization: string };
interface Item {
  id: string;
  kind: string;
  reason: string;
  phone: string | null;
  occurrences: number;
  status: string;
  decision: string | null;
  rep: { userId: string } | null;
}

describe.each(ENGINES)('review queue on %s', (engine) => {
  let relay: TestRelay;
  let drop: () => Promise<void>;
  let org: TestOrg;
  let other: TestOrg;
  let reviewer: { userId: string; auth: Auth };
  let rep: { userId: string; auth: Auth };
  let theirReviewer: { userId: string; auth: Auth };
  let next = 0;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db);
    org = await seedOrg(relay.db, { name: 'Acme Dental' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    const user = (orgId: string, email: string, role: string) =>
      signedInUser(relay.app, relay.db, { orgId, email, role, now: relay.clock() });
    reviewer = await user(org.orgId, 'cora@acme.example', 'compliance_reviewer');
    rep = await user(org.orgId, 'rita@acme.example', 'rep');
    theirReviewer = await user(other.orgId, 'olga@other.example', 'compliance_reviewer');
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  async function customer(): Promise<string> {
    next += 1;
    const phone = `+120255561${String(next).padStart(2, '0')}`;
    await optIn(relay.app, org, phone);
    return phone;
  }
  const send = (auth: Auth, to: string, body = 'Your cleaning is booked for Friday.') =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to, body },
    });
  const text = (from: string, body: string) =>
    relay.sandbox.textFromHandset({ handset: from, service: org.sender, text: body });
  async function queue(auth: Auth, query = ''): Promise<Item[]> {
    const answer = await relay.app.inject({ method: 'GET', url: `/v1/review-items${query}`, headers: auth });
    expect(answer.statusCode, answer.body).toBe(200);
    return answer.json().items as Item[];
  }
  const itemFor = async (phone: string, kind: string, status = 'all') =>
    (await queue(reviewer.auth, `?status=${status}&kind=${kind}`)).find((i) => i.phone === phone);
  const decide = (auth: Auth, id: string, payload: Record<string, unknown>) =>
    relay.app.inject({ method: 'POST', url: `/v1/review-items/${id}/decide`, headers: auth, payload });

  it('a refused send is queued once per rep, number, code and day; repeats count', async () => {
    const phone = await customer();
    await relay.app.inject({
      method: 'POST',
      url: '/v1/consent',
      headers: org.auth,
      payload: { phone, kind: 'opt_out', source: 'verbal', evidence: 'Asked on the phone not to be texted' },
    });
    expect((await send(rep.auth, phone)).json().error.code).toBe('OPTED_OUT');
    expect((await send(rep.auth, phone, 'Second try')).json().error.code).toBe('OPTED_OUT');
    expect(await itemFor(phone, 'refused_send')).toMatchObject({
      reason: 'OPTED_OUT',
      occurrences: 2,
      status: 'open',
      rep: { userId: rep.userId },
    });
  });

  it('a card number in a reply is queued as a redaction, never with the number itself', async () => {
    const phone = await customer();
    await text(phone, 'my card is 4111 1111 1111 1111 exp 12/29');
    const item = await itemFor(phone, 'redaction');
    expect(item).toMatchObject({ reason: "card number removed from the customer's text", status: 'open' });
    expect(JSON.stringify(item)).not.toContain('4111 1111');
  });

  it('an unclear reply decided OK here lifts its pause; decided opt_out, the ledger says so', async () => {
    const kept = await customer();
    expect((await send(rep.auth, kept)).statusCode).toBe(202);
    await text(kept, 'no thanks');
    expect((await send(rep.auth, kept, 'How about Monday?')).json().error.code).toBe('PAUSED_FOR_REVIEW');
    const item = await itemFor(kept, 'unclear_reply');
    expect(item?.status).toBe('open');
    const ok = await decide(reviewer.auth, item?.id ?? '', { decision: 'ok' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().item).toMatchObject({ status: 'closed', decision: 'ok' });
    expect((await send(rep.auth, kept, 'How about Monday?')).statusCode).toBe(202);

    const gone = await customer();
    expect((await send(rep.auth, gone)).statusCode).toBe(202);
    await text(gone, 'no thanks');
    const second = await itemFor(gone, 'unclear_reply');
    const out = await decide(reviewer.auth, second?.id ?? '', {
      decision: 'opt_out',
      note: 'reads as a stop',
    });
    expect(out.statusCode, out.body).toBe(200);
    expect((await send(rep.auth, gone)).json().error.code).toBe('OPTED_OUT');
    const [ledger] = await relay.db.query<{ kind: string; source: string }>(
      `SELECT kind, source FROM consent_events WHERE org_id = $1 AND phone_e164 = $2 ORDER BY id DESC LIMIT 1`,
      [org.orgId, phoneToken(relay.db, gone)],
    );
    expect(ledger).toEqual({ kind: 'opt_out', source: 'review' });
  });

  it.runIf(engine === 'postgres')(
    'a decision waits for the consent lock a consent-review decision holds, instead of deadlocking with it',
    async () => {
      const phone = await customer();
      expect((await send(rep.auth, phone)).statusCode).toBe(202);
      await text(phone, 'no thanks');
      const item = await itemFor(phone, 'unclear_reply');
      // What POST /v1/reviews/:id/decide does: the (org, phone) consent lock, then the item's row.
      let decision: ReturnType<typeof decide> | undefined;
      await relay.db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`consent:${org.orgId}:${phone}`]);
        decision = decide(reviewer.auth, item?.id ?? '', { decision: 'ok' });
        await new Promise((resolve) => setTimeout(resolve, 300));
        await tx.query('SELECT id FROM review_items WHERE id = $1 FOR UPDATE', [item?.id]);
      });
      const answer = await decision;
      expect(answer?.statusCode, answer?.body).toBe(200);
    },
  );

  it('a reply the customer settles with STOP closes its item too', async () => {
    const phone = await customer();
    await text(phone, 'no thanks');
    await text(phone, 'STOP');
    expect(await itemFor(phone, 'unclear_reply')).toMatchObject({ status: 'closed', decision: 'opt_out' });
  });

  it('an overridden opt-out is queued', async () => {
    const phone = await customer();
    const record = (payload: Record<string, unknown>) =>
      relay.app.inject({
        method: 'POST',
        url: '/v1/consent',
        headers: reviewer.auth,
        payload: { phone, ...payload },
      });
    await record({ kind: 'opt_out', source: 'verbal', evidence: 'Asked not to be texted' });
    const override = await record({
      kind: 'opt_in',
      source: 'verbal',
      evidence: 'Customer called on 3 Dec and asked to get reminders again.',
      override: true,
    });
    expect(override.statusCode, override.body).toBe(201);
    expect(await itemFor(phone, 'override')).toMatchObject({
      reason: 'opt-out overridden: texting re-opened (verbal)',
      rep: { userId: reviewer.userId },
    });
  });

  it('coach and escalate need a note; escalated stays open for a second decision; a closed item refuses another; all audited', async () => {
    const phone = await customer();
    await text(phone, 'card 4111 1111 1111 1111');
    const item = await itemFor(phone, 'redaction');
    const id = item?.id ?? '';
    const bare = await decide(reviewer.auth, id, { decision: 'coach' });
    expect(bare.statusCode).toBe(400);
    expect(bare.json().error.code).toBe('REVIEW_NOTE_REQUIRED');
    expect((await itemFor(phone, 'redaction'))?.status).toBe('open');

    const up = await decide(reviewer.auth, id, { decision: 'escalate', note: 'Ask the practice manager' });
    expect(up.json().item).toMatchObject({ status: 'escalated', decision: 'escalate' });
    expect((await queue(reviewer.auth, '?status=escalated')).map((i) => i.id)).toContain(id);
    const coached = await decide(reviewer.auth, id, {
      decision: 'coach',
      note: 'Send the payment link instead',
    });
    expect(coached.json().item).toMatchObject({ status: 'closed', decision: 'coach' });
    const again = await decide(reviewer.auth, id, { decision: 'ok' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('REVIEW_ITEM_CLOSED');

    const audit = await relay.db.query<{ after: { status: string; decision: string } }>(
      `SELECT after FROM audit_log WHERE org_id = $1 AND action = 'review.decided' AND target_id = $2 ORDER BY seq`,
      [org.orgId, id],
    );
    expect(audit.map((a) => a.after)).toEqual([
      { status: 'escalated', decision: 'escalate' },
      { status: 'closed', decision: 'coach' },
    ]);
  });

  it('a rep cannot read the queue; another org’s reviewer neither sees nor decides our items', async () => {
    expect(
      (await relay.app.inject({ method: 'GET', url: '/v1/review-items', headers: rep.auth })).statusCode,
    ).toBe(403);
    const ours = await queue(reviewer.auth, '?status=all');
    expect(ours.length).toBeGreaterThan(0);
    const theirs = await queue(theirReviewer.auth, '?status=all');
    expect(theirs.filter((t) => ours.some((o) => o.id === t.id))).toEqual([]);
    const open = ours.find((i) => i.status === 'open');
    const foreign = await decide(theirReviewer.auth, open?.id ?? '', { decision: 'ok' });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('REVIEW_ITEM_NOT_FOUND');
    expect((await queue(reviewer.auth, '?status=all')).find((i) => i.id === open?.id)?.status).toBe('open');
  });

  it('samples a stable share of yesterday’s conversations: all at 100 %, none at 0, never twice', async () => {
    const phone = await customer();
    expect((await send(rep.auth, phone)).statusCode).toBe(202);
    const tomorrow = new Date(relay.clock().getTime() + 86_400_000);
    const setPercent = (orgId: string, percent: number) =>
      relay.db.query(
        `UPDATE orgs SET settings = settings || jsonb_build_object('reviewSamplePercent', $2::int) WHERE id = $1`,
        [orgId, percent],
      );
    await setPercent(org.orgId, 0);
    expect(await sampleConversations(relay.db, tomorrow)).toBe(0);
    await setPercent(org.orgId, 100);
    const added = await sampleConversations(relay.db, tomorrow);
    expect(added).toBeGreaterThan(0);
    expect(await sampleConversations(relay.db, tomorrow)).toBe(0);
    const sampled = await itemFor(phone, 'sample');
    expect(sampled).toMatchObject({ status: 'open' });
    const samples = await queue(reviewer.auth, '?kind=sample');
    expect(samples).toHaveLength(added);
    // Reviewed and closed, it is not sampled again by the next hour's pass.
    expect((await decide(reviewer.auth, sampled?.id ?? '', { decision: 'ok' })).statusCode).toBe(200);
    expect(await sampleConversations(relay.db, tomorrow)).toBe(0);
  });

  it('the sample percentage is a setting from 0 to 100', async () => {
    const by = { actor: 'cli', at: relay.clock() };
    await expect(setOrgSetting(relay.db, org.orgId, 'reviewSamplePercent', '150', by)).rejects.toMatchObject({
      code: 'INVALID_SETTING',
    });
    await setOrgSetting(relay.db, org.orgId, 'reviewSamplePercent', '5', by);
    const [row] = await relay.db.query<{ v: string }>(
      `SELECT settings->>'reviewSamplePercent' AS v FROM orgs WHERE id = $1`,
      [org.orgId],
    );
    expect(row?.v).toBe('5');
  });
});
