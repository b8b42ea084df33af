import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { createKeyForOrg } from '../../server/organisations/org-admin.ts';
import type { OutboundSms, SmsProvider } from '../../server/providers/sms-provider.ts';
import { OutboxWorker } from '../../server/workers/outbox-worker.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  CUSTOMER,
  daytimeClock,
  eventually,
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

postgresSkipNote('scheduled text changes');

const HOUR = 3_600_000;

describe.each(ENGINES)('on %s', (engine) => {
  let drop: () => Promise<void>;
  let db: Database;
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  // Noon in Washington DC (the customer's area code) when the file loaded, running.
  const clock = daytimeClock();

  /** The provider the workers here send through: the sandbox, with every text it was handed noted. */
  const handed: string[] = [];
  let gate: Promise<void> | null = null;
  const recording = (): SmsProvider => ({
    name: relay.sandbox.name,
    async send(sms: OutboundSms) {
      handed.push(sms.clientRef);
      if (gate !== null) await gate;
      return relay.sandbox.send(sms);
    },
    findAccepted: (sms, since) => relay.sandbox.findAccepted(sms, since),
    ownsNumber: (e164) => relay.sandbox.ownsNumber(e164),
    verifyWebhook: (request) => relay.sandbox.verifyWebhook(request),
    close: async () => undefined,
  });
  /** A fast worker whose clock is `aheadMs` past the relay's: scheduled texts due by then go. */
  const workerAt = (aheadMs: number) =>
    new OutboxWorker({
      db,
      clock: () => new Date(clock().getTime() + aheadMs),
      provider: recording(),
      log: () => undefined,
      sendRates: { long_code: 10_000, toll_free: 10_000, short_code: 10_000 },
      accountRequestsPer5s: 100_000,
    });

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    relay = await testRelay(db, { clock });
    org = await seedOrg(db, { name: 'Acme Dental' });
    other = await seedOrg(db, { name: 'Other Plumbing', sender: '+12025550101' });
    await optIn(relay.app, org, CUSTOMER);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  const schedule = async (
    auth: { authorization: string },
    options: { to?: string; at?: Date | null; body?: string } = {},
  ) => {
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...auth, 'idempotency-key': idemKey() },
      payload: {
        from: org.sender,
        to: options.to ?? CUSTOMER,
        body: options.body ?? 'Your appointment is tomorrow at 10.',
        ...(options.at === null
          ? {}
          : { sendAt: (options.at ?? new Date(clock().getTime() + HOUR)).toISOString() }),
      },
    });
    expect(response.statusCode, response.body).toBe(202);
    return response.json().message as { id: string; scheduledFor: string | null; status: string };
  };
  const cancel = (id: string, auth = org.auth) =>
    relay.app.inject({ method: 'POST', url: `/v1/messages/${id}/cancel`, headers: auth });
  const reschedule = (id: string, sendAt: string, auth = org.auth) =>
    relay.app.inject({
      method: 'POST',
      url: `/v1/messages/${id}/reschedule`,
      headers: auth,
      payload: { sendAt },
    });
  const job = async (id: string) =>
    (
      await db.query<{ state: string; scheduled_for: Date | null }>(
        'SELECT state, scheduled_for FROM outbox_jobs WHERE message_id = $1',
        [id],
      )
    )[0];
  const events = (id: string) =>
    db.query<{ type: string; payload: { message: { status: string; scheduledFor: string | null } } }>(
      `SELECT type, payload FROM events WHERE payload->'message'->>'id' = $1 ORDER BY id`,
      [id],
    );

  it('cancels a scheduled text: it ends cancelled, the live stream says so, and the worker never sends it', async () => {
    const message = await schedule(org.auth);
    const answer = await cancel(message.id);
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json().message).toMatchObject({ id: message.id, status: 'cancelled', scheduledFor: null });
    expect(await job(message.id)).toMatchObject({ state: 'cancelled' });
    const last = (await events(message.id)).at(-1);
    expect(last).toMatchObject({ type: 'message.updated', payload: { message: { status: 'cancelled' } } });
    // Long after its time, a worker still never hands it to the provider.
    await workerAt(2 * HOUR).drain();
    expect(handed).not.toContain(message.id);
    const read = await relay.app.inject({
      method: 'GET',
      url: `/v1/messages/${message.id}`,
      headers: org.auth,
    });
    expect(read.json().message.status).toBe('cancelled');
    expect(read.json().statusHistory.map((h: { status: string }) => h.status)).toEqual([
      'queued',
      'cancelled',
    ]);
    // Cancelling again changes nothing.
    const again = await cancel(message.id);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({
      code: 'MESSAGE_NOT_SCHEDULED',
      details: { status: 'cancelled' },
    });
  });

  it('moves a scheduled text to another allowed time: the job, the message and the live stream follow', async () => {
    const message = await schedule(org.auth);
    const later = new Date(clock().getTime() + 2 * HOUR).toISOString();
    const answer = await reschedule(message.id, later);
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json().message).toMatchObject({ id: message.id, status: 'queued', scheduledFor: later });
    expect((await job(message.id))?.scheduled_for?.toISOString()).toBe(later);
    const last = (await events(message.id)).at(-1);
    expect(last).toMatchObject({ type: 'message.updated', payload: { message: { scheduledFor: later } } });
    // Not at the old time, but at the new one.
    await workerAt(HOUR + 60_000).drain();
    expect(handed).not.toContain(message.id);
    await workerAt(2 * HOUR + 60_000).drain();
    expect(handed).toContain(message.id);
  });

  it('refuses a new time in quiet hours with QUIET_HOURS and the next allowed time, changing nothing; that time is accepted', async () => {
    const message = await schedule(org.auth);
    const before = await job(message.id);
    // 03:00 UTC the next night: 22:00 or 23:00 in Washington DC.
    const night = new Date(clock());
    night.setUTCHours(24 + 3, 0, 0, 0);
    const refused = await reschedule(message.id, night.toISOString());
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json().error.code).toBe('QUIET_HOURS');
    const nextAllowedAt: string = refused.json().error.details.nextAllowedAt;
    expect(await job(message.id)).toEqual(before);
    const moved = await reschedule(message.id, nextAllowedAt);
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().message.scheduledFor).toBe(nextAllowedAt);
  });

  it('judges the new time by every rule again: a review pause refuses it, and nothing changes', async () => {
    const phone = '+12025550177';
    await optIn(relay.app, org, phone);
    const message = await schedule(org.auth, { to: phone });
    const before = await job(message.id);
    await relay.sandbox.textFromHandset({ handset: phone, service: org.sender, text: 'no thanks' });
    const answer = await reschedule(message.id, new Date(clock().getTime() + 2 * HOUR).toISOString());
    expect(answer.statusCode, answer.body).toBe(422);
    expect(answer.json().error.code).toBe('PAUSED_FOR_REVIEW');
    expect(await job(message.id)).toEqual(before);
  });

  it('does not count the moved text towards its own frequency cap', async () => {
    // Florida allows three texts in 24 hours: two sent and this one scheduled are exactly three.
    const florida = '+13055550143';
    await optIn(relay.app, org, florida);
    await schedule(org.auth, { to: florida, body: 'First' });
    await schedule(org.auth, { to: florida, body: 'Second' });
    const third = await schedule(org.auth, { to: florida, body: 'Third' });
    const moved = await reschedule(third.id, new Date(clock().getTime() + 2 * HOUR).toISOString());
    expect(moved.statusCode, moved.body).toBe(200);
    const fourth = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages/preflight',
      headers: org.auth,
      payload: { from: org.sender, to: florida, body: 'Fourth' },
    });
    expect(fourth.json().refusals.map((r: { code: string }) => r.code)).toContain('FREQUENCY_CAP');
  });

  it('records each cancel and move in the audit log: who, which text, the time before and after', async () => {
    const first = await schedule(org.auth);
    const movedTo = new Date(clock().getTime() + 2 * HOUR).toISOString();
    expect((await reschedule(first.id, movedTo)).statusCode).toBe(200);
    expect((await cancel(first.id)).statusCode).toBe(200);
    const entries = await db.query<{ action: string; actor: string; before: unknown; after: unknown }>(
      `SELECT action, actor, before, after FROM audit_log WHERE target_type = 'message' AND target_id = $1 ORDER BY seq`,
      [first.id],
    );
    const [key] = await db.query<{ id: string }>(
      "SELECT id FROM api_keys WHERE org_id = $1 AND name = 'test key'",
      [org.orgId],
    );
    expect(entries).toEqual([
      {
        action: 'message.rescheduled',
        actor: `api-key:${key?.id}`,
        before: { scheduledFor: first.scheduledFor },
        after: { scheduledFor: movedTo },
      },
      {
        action: 'message.cancelled',
        actor: `api-key:${key?.id}`,
        before: { status: 'queued', scheduledFor: movedTo },
        after: { status: 'cancelled' },
      },
    ]);
  });

  it('answers 409 MESSAGE_NOT_SCHEDULED for a text already sent, and for one sent now', async () => {
    const now = await schedule(org.auth, { at: null, body: 'Right away' });
    expect(now.scheduledFor).toBeNull();
    for (const call of [
      () => cancel(now.id),
      () => reschedule(now.id, new Date(clock().getTime() + HOUR).toISOString()),
    ]) {
      const answer = await call();
      expect(answer.statusCode, answer.body).toBe(409);
      expect(answer.json().error.code).toBe('MESSAGE_NOT_SCHEDULED');
    }
    await workerAt(0).drain();
    await eventually(async () => (await job(now.id))?.state === 'done');
    const sent = await cancel(now.id);
    expect(sent.statusCode).toBe(409);
    expect(sent.json().error).toMatchObject({ code: 'MESSAGE_NOT_SCHEDULED' });
    expect(['sent', 'delivered']).toContain(sent.json().error.details.status);
  });

  it("answers 404 to another organisation's key and 400 to a malformed time, changing nothing", async () => {
    const message = await schedule(org.auth);
    const before = await job(message.id);
    for (const answer of [
      await cancel(message.id, other.auth),
      await reschedule(message.id, new Date(clock().getTime() + 2 * HOUR).toISOString(), other.auth),
    ]) {
      expect(answer.statusCode).toBe(404);
      expect(answer.json().error.code).toBe('MESSAGE_NOT_FOUND');
    }
    const bad = await reschedule(message.id, 'tomorrow morning please');
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toBe('INVALID_SEND_AT');
    const past = await reschedule(message.id, new Date(clock().getTime() - HOUR).toISOString());
    expect(past.statusCode).toBe(422);
    expect(past.json().error.code).toBe('INVALID_SEND_AT');
    expect(await job(message.id)).toEqual(before);
  });

  it('lets the sender and a manager change a scheduled text, and refuses another rep with 403', async () => {
    const now = clock();
    const sender = await signedInUser(relay.app, db, {
      orgId: org.orgId,
      email: 'sam@example.com',
      role: 'rep',
      now,
    });
    const colleague = await signedInUser(relay.app, db, {
      orgId: org.orgId,
      email: 'kim@example.com',
      role: 'rep',
      now,
    });
    // The colleague texts the same customer too, so the conversation is one they see.
    await schedule(colleague.auth, { at: null, body: 'Kim here' });
    const message = await schedule(sender.auth);
    const before = await job(message.id);
    const repKey = await createKeyForOrg(db, { orgId: org.orgId, role: 'rep', name: 'rep integration' });
    for (const auth of [colleague.auth, { authorization: `Bearer ${repKey.key}` }]) {
      const refused = await cancel(message.id, auth);
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.json().error).toMatchObject({
        code: 'FORBIDDEN',
        details: { permission: 'messages.manage' },
      });
    }
    expect(await job(message.id)).toEqual(before);
    const own = await reschedule(
      message.id,
      new Date(clock().getTime() + 2 * HOUR).toISOString(),
      sender.auth,
    );
    expect(own.statusCode, own.body).toBe(200);
    const managerKey = await createKeyForOrg(db, { orgId: org.orgId, role: 'manager', name: 'manager' });
    const byManager = await cancel(message.id, { authorization: `Bearer ${managerKey.key}` });
    expect(byManager.statusCode, byManager.body).toBe(200);
  });

  it('refuses to cancel a text the worker holds (409), and that text is sent once', async () => {
    // A number of its own: one text per destination is in flight, and others here are due too.
    const phone = '+12025550188';
    await optIn(relay.app, org, phone);
    const message = await schedule(org.auth, { to: phone });
    let release: () => void = () => undefined;
    gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      const draining = workerAt(HOUR + 60_000).drain();
      await eventually(async () => (await job(message.id))?.state === 'sending');
      await eventually(async () => handed.includes(message.id));
      const answer = await cancel(message.id);
      expect(answer.statusCode).toBe(409);
      expect(answer.json().error.code).toBe('MESSAGE_NOT_SCHEDULED');
      release();
      await draining;
    } finally {
      gate = null;
      release();
    }
    expect(await job(message.id)).toMatchObject({ state: 'done' });
    expect(handed.filter((id) => id === message.id)).toHaveLength(1);
  });

  it('never sends a text whose cancel raced the worker and won', async () => {
    const phones = Array.from({ length: 8 }, (_, i) => `+1202555${String(2000 + i)}`);
    const ids: string[] = [];
    for (const phone of phones) {
      await optIn(relay.app, org, phone);
      ids.push((await schedule(org.auth, { to: phone })).id);
    }
    const worker = workerAt(HOUR + 60_000);
    const [answers] = await Promise.all([Promise.all(ids.map((id) => cancel(id))), worker.drain()]);
    await worker.drain();
    for (const [i, id] of ids.entries()) {
      const answer = answers[i];
      const state = (await job(id))?.state;
      if (answer?.statusCode === 200) {
        expect(state).toBe('cancelled');
        expect(handed).not.toContain(id);
      } else {
        expect(answer?.statusCode).toBe(409);
        expect(state).toBe('done');
        expect(handed.filter((h) => h === id)).toHaveLength(1);
      }
    }
  });
});
