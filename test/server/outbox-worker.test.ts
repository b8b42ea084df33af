import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { ProviderError, type SmsProvider } from '../../server/providers/sms-provider.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { OutboxWorker } from '../../server/workers/outbox-worker.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  CUSTOMER,
  daytimeClock,
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

postgresSkipNote('outbox worker and storage');

/** A provider that records every send, and can fail or stall on demand. */
class RecordingProvider implements SmsProvider {
  readonly name = 'sandbox';
  readonly sent: string[] = [];
  failNext: ProviderError[] = [];
  accepted = new Map<string, string>();
  async send(sms: { clientRef: string }): Promise<{ providerMessageId: string }> {
    const failure = this.failNext.shift();
    if (failure !== undefined) throw failure;
    this.sent.push(sms.clientRef);
    const id = `prov-${sms.clientRef}`;
    this.accepted.set(sms.clientRef, id);
    return { providerMessageId: id };
  }
  async findAccepted(sms: { clientRef: string }): Promise<string[]> {
    const id = this.accepted.get(sms.clientRef);
    return id === undefined ? [] : [id];
  }
  async ownsNumber(): Promise<{ owned: true }> {
    return { owned: true };
  }
  verifyWebhook(): boolean {
    return false;
  }
  async close(): Promise<void> {}
}

describe.each(ENGINES)('outbox on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  let relay: TestRelay;
  let org: TestOrg;

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    relay = await testRelay(db);
    org = await seedOrg(db);
    await optIn(relay.app, org, CUSTOMER);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  async function queue(n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await relay.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...org.auth, 'idempotency-key': idemKey() },
        payload: { from: org.sender, to: CUSTOMER, body: `message ${i}` },
      });
      expect(r.statusCode).toBe(202);
      ids.push(r.json().message.id);
    }
    return ids;
  }

  const log = () => undefined;
  /** 03:00 UTC on the day after `instant`: night in Washington DC, whatever the date. */
  const nightAfter = (instant: Date) => {
    const night = new Date(instant);
    night.setUTCHours(24 + 3, 0, 0, 0);
    return night;
  };
  // Pacing is tested on its own below; elsewhere it would only slow the tests down.
  const FAST = { long_code: 10_000, toll_free: 10_000, short_code: 10_000 };

  it('sends each message exactly once when several workers claim the same queue', async () => {
    const ids = await queue(60);
    const provider = new RecordingProvider();
    const workers = [1, 2, 3].map(
      () =>
        new OutboxWorker({
          db,
          clock: daytimeClock(),
          provider,
          log,
          sendRates: FAST,
          batchSize: 5,
        }),
    );
    await Promise.all(workers.map((w) => w.drain()));
    expect([...provider.sent].sort()).toEqual([...ids].sort());
    const states = await db.query<{ state: string; n: number }>(
      'SELECT state, count(*)::int AS n FROM outbox_jobs WHERE message_id = ANY($1::uuid[]) GROUP BY state',
      [ids],
    );
    expect(states).toEqual([{ state: 'done', n: 60 }]);
  });

  it('retries a temporary failure later and fails a permanent one visibly', async () => {
    const [temporary, permanent] = await queue(2);
    const provider = new RecordingProvider();
    provider.failNext = [
      new ProviderError(true, 'PROVIDER_5XX', 'upstream 503', 503),
      new ProviderError(false, 'INVALID_DESTINATION', 'not a mobile number', 400),
    ];
    const worker = new OutboxWorker({
      db,
      clock: daytimeClock(),
      provider,
      log,
      sendRates: FAST,
      batchSize: 1,
    });
    await worker.drain();
    const rows = await db.query<{ id: string; status: string; error_code: string | null }>(
      'SELECT id, status, error_code FROM messages WHERE id = ANY($1::uuid[])',
      [[temporary, permanent]],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(temporary as string)?.status).toBe('queued');
    expect(byId.get(permanent as string)).toMatchObject({
      status: 'failed',
      error_code: 'INVALID_DESTINATION',
    });
    await db.query(`UPDATE outbox_jobs SET available_at = now() WHERE message_id = $1`, [temporary]);
    await worker.drain();
    expect(provider.sent).toEqual([temporary]);
  });

  it('does not resend a message whose sender died after the provider accepted it', async () => {
    const [id] = await queue(1);
    const provider = new RecordingProvider();
    // Simulate a crash between "provider accepted" and "database updated".
    provider.accepted.set(id as string, 'prov-before-crash');
    await db.query(
      `UPDATE outbox_jobs SET state = 'sending', attempts = 1, lease_until = now() - interval '1 second' WHERE message_id = $1`,
      [id],
    );
    const worker = new OutboxWorker({
      db,
      clock: daytimeClock(),
      provider,
      log,
    });
    await worker.drain();
    expect(provider.sent).toEqual([]);
    const rows = await db.query<{ status: string; provider_message_id: string }>(
      'SELECT status, provider_message_id FROM messages WHERE id = $1',
      [id],
    );
    expect(rows).toEqual([{ status: 'sent', provider_message_id: 'prov-before-crash' }]);
  });

  it('sends again a message whose sender died before the provider saw it', async () => {
    const [id] = await queue(1);
    const provider = new RecordingProvider();
    await db.query(
      `UPDATE outbox_jobs SET state = 'sending', attempts = 1, lease_until = now() - interval '1 second' WHERE message_id = $1`,
      [id],
    );
    const worker = new OutboxWorker({
      db,
      clock: daytimeClock(),
      provider,
      log,
    });
    await worker.drain();
    expect(provider.sent).toEqual([id]);
  });

  it('never sends a queued message after the recipient opted out', async () => {
    const [id] = await queue(1);
    await db.query(
      `INSERT INTO consent_events (org_id, phone_e164, kind, source, evidence, actor) VALUES ($1, $2, 'opt_out', 'api', 'test', 'test')`,
      [org.orgId, phoneToken(db, CUSTOMER)],
    );
    const provider = new RecordingProvider();
    const worker = new OutboxWorker({
      db,
      clock: daytimeClock(),
      provider,
      log,
    });
    await worker.drain();
    expect(provider.sent).toEqual([]);
    const rows = await db.query('SELECT status, error_code FROM messages WHERE id = $1', [id]);
    expect(rows).toEqual([{ status: 'failed', error_code: 'OPTED_OUT' }]);
    // The customer texts START again (only they may re-open texting), for the tests below.
    await db.query(
      `INSERT INTO consent_events (org_id, phone_e164, kind, source, evidence, actor) VALUES ($1, $2, 'opt_in', 'keyword', 'START', 'customer')`,
      [org.orgId, phoneToken(db, CUSTOMER)],
    );
  });

  it('holds a queued text while an anomaly alert pauses the rep who sent it, and sends it once resumed', async () => {
    const rita = await signedInUser(relay.app, db, {
      orgId: org.orgId,
      email: 'rita@outbox.example',
      role: 'rep',
      now: relay.clock(),
    });
    const queued = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...rita.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: CUSTOMER, body: 'Queued before the pause' },
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const id: string = queued.json().message.id;
    // Paused after queueing (an alert raised in between): the text must not leave.
    await db.query('UPDATE users SET sending_paused_at = $2 WHERE id = $1', [rita.userId, relay.clock()]);
    const provider = new RecordingProvider();
    const clock = daytimeClock();
    const worker = new OutboxWorker({ db, clock, provider, log, sendRates: FAST });
    await worker.drain();
    expect(provider.sent).toEqual([]);
    const [held] = await db.query<{ status: string; last_error: string }>(
      `SELECT m.status, j.last_error FROM messages m JOIN outbox_jobs j ON j.message_id = m.id WHERE m.id = $1`,
      [id],
    );
    expect(held).toEqual({ status: 'queued', last_error: expect.stringMatching(/^SENDING_PAUSED/) });

    await db.query('UPDATE users SET sending_paused_at = NULL WHERE id = $1', [rita.userId]);
    // Five minutes on, the job is looked at again.
    await db.query('UPDATE outbox_jobs SET scheduled_for = NULL WHERE message_id = $1', [id]);
    await worker.drain();
    expect(provider.sent).toEqual([id]);
  });

  it('paces sends from one long code to its rate and queues the rest instead of failing them', async () => {
    await optIn(relay.app, org, CUSTOMER);
    const ids = await queue(4);
    const provider = new RecordingProvider();
    const times: number[] = [];
    const original = provider.send.bind(provider);
    provider.send = async (sms) => {
      times.push(Date.now());
      return original(sms);
    };
    const worker = new OutboxWorker({
      db,
      clock: daytimeClock(),
      provider,
      log,
      sendRates: { long_code: 10, toll_free: 10, short_code: 10 },
    });
    const started = Date.now();
    await worker.drain();
    expect([...provider.sent].sort()).toEqual([...ids].sort());
    // 4 sends at 10 per second: the last slot opens 300 ms after the first. Measured from the start of the
    // drain, since a first send that leaves late (a busy machine) would shorten the first-to-last span.
    expect((times.at(-1) ?? 0) - started).toBeGreaterThanOrEqual(250);
  });

  it('holds a message that reaches quiet hours in the queue until the recipient’s morning', async () => {
    await optIn(relay.app, org, CUSTOMER);
    const [id] = await queue(1);
    const provider = new RecordingProvider();
    // 03:00 UTC is 22:00 (23:00 in summer) in Washington DC: too late to text there.
    const night = nightAfter(new Date());
    const worker = new OutboxWorker({
      db,
      provider,
      log,
      clock: () => night,
    });
    await worker.drain();
    expect(provider.sent).toEqual([]);
    const rows = await db.query<{ state: string; scheduled_for: Date; status: string }>(
      `SELECT j.state, j.scheduled_for, m.status FROM outbox_jobs j JOIN messages m ON m.id = j.message_id WHERE m.id = $1`,
      [id],
    );
    expect(rows[0]).toMatchObject({ state: 'queued', status: 'queued' });
    // It waits until 08:00 in Washington DC, the next moment it may be sent, and says so.
    const at = rows[0]?.scheduled_for as Date;
    expect(at.getTime()).toBeGreaterThan(night.getTime());
    expect(
      new Intl.DateTimeFormat('en-US', {
        timeZone: 'America/New_York',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(at),
    ).toBe('08:00');
    const read = await relay.app.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: org.auth });
    expect(read.json().message.scheduledFor).toBe(at.toISOString());
    await db.query('UPDATE outbox_jobs SET state = $2 WHERE message_id = $1', [id, 'failed']);
  });

  it('holds a job once per pass, even when its clock jumps ahead into the next night', async () => {
    await optIn(relay.app, org, CUSTOMER);
    const [id] = await queue(1);
    const provider = new RecordingProvider();
    // Each hold moves the clock a day on: past the morning the job was held for, into another
    // night. A pass that claimed it again would hold it again, for ever.
    let now = nightAfter(new Date());
    let holds = 0;
    let stopping: Promise<void> | null = null;
    const worker: OutboxWorker = new OutboxWorker({
      db,
      provider,
      log: (_level, message) => {
        if (!message.includes('quiet hours')) return;
        holds += 1;
        now = new Date(now.getTime() + 24 * 3_600_000);
        // A spinning pass never yields to timers on embedded PGlite: end it from inside.
        if (holds >= 5) stopping ??= worker.stop();
      },
      clock: () => now,
    });
    await worker.drain();
    await stopping;
    await worker.stop();
    expect(holds).toBe(1);
    expect(provider.sent).toEqual([]);
    await db.query('UPDATE outbox_jobs SET state = $2 WHERE message_id = $1', [id, 'failed']);
  });

  it('counts a message’s maximum age from when it is due, so a scheduled one is not failed for waiting', async () => {
    await optIn(relay.app, org, CUSTOMER);
    const [scheduled, stale] = await queue(2);
    // Both were queued two days ago; one became due just now, the other has been due for a day.
    await db.query(
      `UPDATE outbox_jobs SET created_at = now() - interval '2 days' WHERE message_id = ANY($1::uuid[])`,
      [[scheduled, stale]],
    );
    await db.query(`UPDATE outbox_jobs SET available_at = now() - interval '1 day' WHERE message_id = $1`, [
      stale,
    ]);
    const provider = new RecordingProvider();
    const worker = new OutboxWorker({
      db,
      provider,
      log,
      clock: daytimeClock(),
      sendRates: FAST,
      maxAgeMs: 12 * 3600_000,
    });
    await worker.drain();
    expect(provider.sent).toEqual([scheduled]);
    const rows = await db.query('SELECT status, error_code FROM messages WHERE id = $1', [stale]);
    expect(rows).toEqual([{ status: 'failed', error_code: 'EXPIRED' }]);
  });

  it('keeps the consent ledger and status history append-only', async () => {
    await expect(db.query('DELETE FROM consent_events')).rejects.toThrow(/append-only/);
    await expect(db.query("UPDATE message_status_events SET status = 'sent'")).rejects.toThrow(/append-only/);
    await expect(db.query("UPDATE messages SET body = 'rewritten'")).rejects.toThrow(/append-only/);
  });
});
