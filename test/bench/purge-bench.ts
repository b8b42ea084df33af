/**
 * Issue #18 (performance): the retention purge deletes in bounded batches without blocking sends.
 * On PostgreSQL, one org holds 1,000,000 texts (100,000 conversations) older than its metadata
 * policy; another org's reps keep sending (POST /v1/messages, 4 at a time, through the relay's
 * own routes) first alone, then while `runRetention` deletes all of them, as the relay's hourly
 * worker would in the same process. Reported: send latency alone and during the purge (p50, p99,
 * max), the purge's rows per second and batches, and the verdict: p99 during the purge at most
 * 3 × p99 alone. Runs alone with `BENCH_ONLY=purge npm run bench`, and in a full `npm run bench`.
 */
import { addSenderNumber, createOrg } from '../../server/organisations/org-admin.ts';
import { setOrgSetting } from '../../server/organisations/org-settings-admin.ts';
import { runRetention } from '../../server/retention/purge.ts';
import { idemKey, optIn, seedOrg, type TestRelay, testRelay } from '../helpers/relay.ts';
import { openBenchDatabase, unavailable } from './bench-db.ts';
import { mergeIntoLatest } from './latest-json.ts';
import { type LatencySummary, summarizeLatencies } from './stats.ts';

const CONVERSATIONS = 100_000;
const MESSAGES_PER_CONVERSATION = 10;
const SENDERS = 4;
const ALONE_MS = 10_000;
const TARGET_P99_FACTOR = 3;
const DAY_MS = 86_400_000;

export type PurgeReport =
  | { status: 'skipped'; reason: string }
  | {
      status: 'measured';
      rows: number;
      seedSeconds: number;
      purge: { seconds: number; messagesDeleted: number; rowsPerSecond: number; batches: number };
      alone: LatencySummary;
      during: LatencySummary;
      p99Ratio: number;
      target: number;
      pass: boolean;
    };

type BenchDb = Awaited<ReturnType<typeof openBenchDatabase>>['db'];

/** 1M texts of one org, all older than a year by the relay's clock, with their status history. */
async function seed(db: BenchDb, orgId: string, now: Date): Promise<void> {
  const sender = await addSenderNumber(db, { orgId, e164: '+12025550140' });
  const old = new Date(now.getTime() - 400 * DAY_MS);
  await db.query(
    `INSERT INTO conversations (id, org_id, sender_number_id, contact_phone, created_at, last_message_at)
     SELECT gen_random_uuid(), $1, $2, '+1303' || lpad(i::text, 7, '0'), $3::timestamptz,
            $3::timestamptz + i * interval '1 second'
       FROM generate_series(0, $4::int - 1) i`,
    [orgId, sender.numberId, old, CONVERSATIONS],
  );
  await db.query(
    `INSERT INTO messages (id, org_id, conversation_id, direction, from_e164, to_e164, body, status, segments,
                           encoding, created_at)
     SELECT gen_random_uuid(), c.org_id, c.id, 'outbound', '+12025550140', c.contact_phone, 'Old text ' || m,
            'delivered', 1, 'GSM-7', c.last_message_at - (${MESSAGES_PER_CONVERSATION} - m) * interval '1 second'
       FROM conversations c CROSS JOIN generate_series(1, ${MESSAGES_PER_CONVERSATION}) m
      WHERE c.org_id = $1`,
    [orgId],
  );
  await db.query(
    `INSERT INTO message_status_events (message_id, status) SELECT id, 'delivered' FROM messages WHERE org_id = $1`,
    [orgId],
  );
  const by = { actor: 'bench', at: now };
  await setOrgSetting(db, orgId, 'retention.messageBodyDays', '30', by);
  await setOrgSetting(db, orgId, 'retention.metadataDays', '365', by);
  await db.query('ANALYZE');
}

/** SENDERS loops of sequential sends until `until()` says stop; each send's latency in ms. */
async function sendWhile(
  relay: TestRelay,
  org: Awaited<ReturnType<typeof seedOrg>>,
  phones: string[],
  until: () => boolean,
) {
  const samples: number[] = [];
  let n = 0;
  const loop = async () => {
    while (!until()) {
      n += 1;
      const started = performance.now();
      const answer = await relay.app.inject({
        method: 'POST',
        url: '/v1/messages',
        headers: { ...org.auth, 'idempotency-key': idemKey() },
        payload: { from: org.sender, to: phones[n % phones.length], body: `Reminder ${n}: see you Friday.` },
      });
      if (answer.statusCode !== 202) throw new Error(`send refused: ${answer.statusCode} ${answer.body}`);
      samples.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, loop));
  return summarizeLatencies(samples);
}

export async function runPurgeBench(): Promise<PurgeReport> {
  const reason = await unavailable('postgres');
  if (reason !== null) return { status: 'skipped', reason };
  const bench = await openBenchDatabase('postgres');
  const { db } = bench;
  const relay = await testRelay(db);
  try {
    const started = performance.now();
    const now = relay.clock();
    const { orgId } = await createOrg(db, 'Bench Archive');
    await seed(db, orgId, now);
    const seedSeconds = (performance.now() - started) / 1000;
    const live = await seedOrg(db, { name: 'Bench Live', sender: '+13125550100' });
    const phones = Array.from({ length: 40 }, (_, i) => `+1312555${String(2000 + i)}`);
    for (const phone of phones) await optIn(relay.app, live, phone);

    const aloneUntil = performance.now() + ALONE_MS;
    const alone = await sendWhile(relay, live, phones, () => performance.now() > aloneUntil);
    let purging = true;
    const purgeStarted = performance.now();
    const purge = runRetention(db, { orgId, now: relay.clock(), dryRun: false, actor: 'bench' }).finally(
      () => {
        purging = false;
      },
    );
    const during = await sendWhile(relay, live, phones, () => !purging);
    const report = await purge;
    const seconds = (performance.now() - purgeStarted) / 1000;
    const p99Ratio = during.p99 / Math.max(alone.p99, 0.001);
    return {
      status: 'measured',
      rows: CONVERSATIONS * MESSAGES_PER_CONVERSATION,
      seedSeconds,
      purge: {
        seconds,
        messagesDeleted: report.messagesDeleted,
        rowsPerSecond: report.messagesDeleted / seconds,
        batches: report.batches,
      },
      alone,
      during,
      p99Ratio,
      target: TARGET_P99_FACTOR,
      pass:
        report.messagesDeleted === CONVERSATIONS * MESSAGES_PER_CONVERSATION && p99Ratio <= TARGET_P99_FACTOR,
    };
  } finally {
    await relay.close();
    await bench.dispose();
  }
}

const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 1)} ms`;
const latency = (l: LatencySummary): string =>
  `p50 ${ms(l.p50).padStart(8)}  p99 ${ms(l.p99).padStart(8)}  max ${ms(l.max).padStart(8)}  (${l.samples} sends)`;

/** The report as the bench prints it. */
export function purgeLines(report: PurgeReport): string[] {
  if (report.status === 'skipped') return [`=== retention purge: SKIPPED: ${report.reason} ===`];
  const { purge } = report;
  return [
    `=== PostgreSQL: retention purge of ${report.rows.toLocaleString('en-US')} texts (seeded in ${report.seedSeconds.toFixed(0)} s) while another org sends, ${SENDERS} at a time ===`,
    `    send latency alone            ${latency(report.alone)}`,
    `    send latency during the purge ${latency(report.during)}`,
    `    purge: ${purge.messagesDeleted.toLocaleString('en-US')} texts deleted in ${purge.seconds.toFixed(1)} s ` +
      `(${Math.round(purge.rowsPerSecond).toLocaleString('en-US')} rows/s, ${purge.batches} batches)`,
    `    p99 during ÷ p99 alone ${report.p99Ratio.toFixed(2)}, target <= ${report.target}: ${report.pass ? 'PASS' : 'FAIL'}`,
  ];
}

/** `BENCH_ONLY=purge npm run bench`: this section alone, merged into bench-results/latest.json. */
export async function runPurgeAlone(): Promise<number> {
  const report = await runPurgeBench();
  for (const line of purgeLines(report)) console.log(line);
  await mergeIntoLatest('purge', report);
  return report.status === 'measured' && !report.pass ? 1 : 0;
}
