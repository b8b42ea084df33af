/**
 * Issue #20 (2): GET /v1/conversations at 100,000 conversations (1,000,000 messages) in one org,
 * and the inbox (issue #19: GET /v1/inbox, mine with 300 unread, all, the unassigned queue).
 * Seeds PostgreSQL with generate_series, then times 50-row pages through the HTTP route (a real
 * socket, a signed-in user's session token) for every filter: unfiltered, `mine=true`, by phone
 * and by CRM record; first pages, and deep pages reached with a cursor. Target: p95 <= 20 ms.
 * Two more orgs, of 10,000 and 1,000 conversations, seeded alike in the same database, give the
 * scaling table: list pages, a thread page and a send at 1M, 100k and 10k messages (list-scaling.ts).
 *
 * Runs alone with `BENCH_ONLY=lists npm run bench` (or `tsx test/bench/conversation-list-bench.ts`);
 * DATABASE_URL names the PostgreSQL server (default the local test server). Each customer has two
 * threads (one per sender number), so the phone and CRM-record lines return two rows: those lists
 * are one contact's, and their index reads stop there. That each filter reads its index and no
 * Sort over the org is asserted from PostgreSQL's plans in test/server/conversation-list-plans.test.ts.
 */
import { tokenizeStoredPhones } from '../../server/crypto/phone-upgrade.ts';
import { vaultOf } from '../../server/crypto/vault.ts';
import { addSenderNumber, createOrg } from '../../server/organisations/org-admin.ts';
import { phoneNumber } from '../../server/stores/phone-columns.ts';
import { signedInUser, testRelay, testUser } from '../helpers/relay.ts';
import { sendableRecipients } from '../helpers/sendable-recipients.ts';
import { openBenchDatabase, unavailable } from './bench-db.ts';
import { mergeIntoLatest } from './latest-json.ts';
import {
  deepCursors,
  measureScaling,
  type ScalingOrg,
  type ScalingReport,
  scalingLines,
} from './list-scaling.ts';
import { type LatencySummary, summarizeLatencies } from './stats.ts';

const CONVERSATIONS = 100_000;
/** The smaller orgs the scaling table compares the large one with (list-scaling.ts). */
const SMALLER_ORGS = [1_000, 10_000];
/** Opted-in customers without a thread the scaling table's sends text in turn, per org. */
const SCALING_RECIPIENTS = 50;
const MESSAGES_PER_CONVERSATION = 10;
/** Ten reps; rep k has sent in the conversations i with i % 12 = k: about 8,300 each, 5 in 6 owned. */
const REPS = 10;
const TARGET_P95_MS = 20;
const PAGE = 50;

type BenchDb = Awaited<ReturnType<typeof openBenchDatabase>>['db'];
type Session = { userId: string; accessToken: string };

export interface ListScenario {
  name: string;
  latency: LatencySummary;
  rows: number;
  pass: boolean;
}

export type ConversationListReport =
  | { status: 'skipped'; reason: string }
  | {
      status: 'measured';
      conversations: number;
      messages: number;
      seedSeconds: number;
      requestsPerScenario: number;
      targetP95Ms: number;
      scenarios: ListScenario[];
      scaling: ScalingReport;
    };

/** Where one org's list is seeded: its size, its two sender numbers, its reps (the first is measured). */
export interface ListSeed {
  orgId: string;
  reps: string[];
  conversations: number;
  senderNumbers: [string, string];
}

/**
 * One org's conversations (ten messages each), the reps' sends, contacts for half, all by the
 * relay's own SQL; 100k conversations (1M messages) take about a minute. Other orgs may share the
 * database: every statement keeps to this org's rows.
 */
export async function seedConversationList(db: BenchDb, s: ListSeed) {
  const { orgId, reps, conversations } = s;
  const senders = [];
  for (const e164 of s.senderNumbers) senders.push((await addSenderNumber(db, { orgId, e164 })).numberId);
  // Conversation i: sender i % 2, customer i / 2 (so each customer has two threads), linked to
  // a CRM contact for even customers; last activity i seconds after the epoch of the run.
  await db.query(
    `INSERT INTO contacts (id, org_id, phone_e164, crm, crm_object, crm_id)
     SELECT gen_random_uuid(), $1, '+1303' || lpad(j::text, 7, '0'), 'hubspot', 'contact', 'hs-' || j
       FROM generate_series(0, $2::int / 2 - 1) j WHERE j % 2 = 0`,
    [orgId, conversations],
  );
  await db.query(
    `INSERT INTO conversations (id, org_id, sender_number_id, contact_phone, contact_id, created_at, last_message_at)
     SELECT gen_random_uuid(), $1, ($2::uuid[])[i % 2 + 1], '+1303' || lpad((i / 2)::text, 7, '0'),
            CASE WHEN (i / 2) % 2 = 0 THEN (SELECT k.id FROM contacts k WHERE k.org_id = $1 AND k.crm = 'hubspot' AND k.crm_id = 'hs-' || (i / 2)) END,
            timestamptz '2026-01-01 00:00:00+00',
            timestamptz '2026-01-01 00:00:00+00' + (i * 10 + ${MESSAGES_PER_CONVERSATION}) * interval '1 second'
       FROM generate_series(0, $3::int - 1) i`,
    [orgId, senders, conversations],
  );
  // Customers' numbers are stored as tokens (phone-tokens.ts); the messages below copy them.
  await tokenizeStoredPhones(db, vaultOf(db).phones, { evenIfDone: true });
  // Ten messages a conversation, alternating outbound (by its rep, if it has one) and inbound.
  await db.query(
    `INSERT INTO messages (id, org_id, conversation_id, direction, from_e164, to_e164, body, status, segments,
                           encoding, sent_by_user_id, created_at)
     SELECT gen_random_uuid(), c.org_id, c.id, CASE WHEN m % 2 = 0 THEN 'outbound' ELSE 'inbound' END,
            $3, c.contact_phone, 'Bench message ' || m,
            CASE WHEN m % 2 = 0 THEN 'delivered' ELSE 'received' END, 1, 'GSM-7',
            CASE WHEN m % 2 = 0 AND c.n % 12 < ${REPS} THEN ($2::uuid[])[c.n % 12 + 1] END,
            c.last_message_at - (${MESSAGES_PER_CONVERSATION} - m) * interval '1 second'
       FROM (SELECT id, org_id, contact_phone, last_message_at, row_number() OVER (ORDER BY last_message_at) - 1 AS n
               FROM conversations WHERE org_id = $1) c
       CROSS JOIN generate_series(1, ${MESSAGES_PER_CONVERSATION}) m`,
    [orgId, reps, s.senderNumbers[0]],
  );
  // The same backfill migration 024 runs on an existing installation.
  await db.query(
    `INSERT INTO conversation_participants (user_id, conversation_id, last_message_at)
     SELECT DISTINCT m.sent_by_user_id, m.conversation_id, c.last_message_at
       FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE m.sent_by_user_id IS NOT NULL AND m.org_id = $1`,
    [orgId],
  );
  // The inbox (issue #19): each rep is routed the conversations they sent in, and rep 0 has the
  // 300 most recent of theirs unread, as replies leave them.
  await db.query(
    `UPDATE conversations c SET assigned_user_id = p.user_id, assigned_at = c.last_message_at
       FROM conversation_participants p WHERE p.conversation_id = c.id AND c.org_id = $1`,
    [orgId],
  );
  await db.query(
    `INSERT INTO inbox_unread (user_id, conversation_id, since)
     SELECT p.user_id, p.conversation_id, p.last_message_at FROM conversation_participants p
      WHERE p.user_id = $1 ORDER BY p.last_message_at DESC LIMIT 300`,
    [reps[0]],
  );
  await db.query('ANALYZE');
}

/** Times `count` sequential GETs of paths drawn by `pathFor`, after a few untimed ones. */
async function timeRequests(
  base: string,
  token: string,
  count: number,
  pathFor: (i: number) => string,
): Promise<{ latency: LatencySummary; rows: number }> {
  const samples: number[] = [];
  let rows = 0;
  for (let i = -10; i < count; i += 1) {
    const started = performance.now();
    const response = await fetch(`${base}${pathFor(i + 10)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as { conversations?: unknown[]; rows?: unknown[] };
    const elapsed = performance.now() - started;
    if (response.status !== 200)
      throw new Error(`${pathFor(i + 10)}: ${response.status} ${JSON.stringify(body)}`);
    if (i >= 0) {
      samples.push(elapsed);
      rows += (body.conversations ?? body.rows)?.length ?? 0;
    }
  }
  return { latency: summarizeLatencies(samples), rows: Math.round(rows / count) };
}

/** What each measured line requests: a name, whose token, and the path of its i-th request. */
async function listPlans(
  db: BenchDb,
  orgId: string,
  rep: Session,
  admin: Session,
): Promise<[string, string, (i: number) => string][]> {
  const orgDeep = await deepCursors(
    db,
    `SELECT last_message_at::text AS at, id FROM conversations WHERE org_id = $1
      ORDER BY last_message_at DESC NULLS LAST, id OFFSET $2 LIMIT 50`,
    [orgId, CONVERSATIONS / 2],
  );
  const mineDeep = await deepCursors(
    db,
    `SELECT p.last_message_at::text AS at, p.conversation_id AS id FROM conversation_participants p
      WHERE p.user_id = $1 ORDER BY p.last_message_at DESC NULLS LAST, p.conversation_id OFFSET 4000 LIMIT 50`,
    [rep.userId],
  );
  const phones = (
    await db.query<{ phone: string }>(
      'SELECT contact_phone AS phone FROM conversations WHERE org_id = $1 ORDER BY random() LIMIT 50',
      [orgId],
    )
  ).map((r) => encodeURIComponent(phoneNumber(db, r.phone)));
  const records = (
    await db.query<{ crm_id: string }>(
      `SELECT crm_id FROM contacts WHERE org_id = $1 AND crm IS NOT NULL ORDER BY random() LIMIT 50`,
      [orgId],
    )
  ).map((r) => r.crm_id);
  const pick = <T>(list: T[], i: number): T => list[i % list.length] as T;
  const inboxDeep = await deepCursors(
    db,
    `SELECT p.last_message_at::text AS at, p.conversation_id AS id FROM conversation_participants p
      WHERE p.user_id = $1 AND NOT EXISTS (SELECT 1 FROM inbox_unread r WHERE r.user_id = p.user_id AND r.conversation_id = p.conversation_id)
      ORDER BY p.last_message_at DESC NULLS LAST, p.conversation_id OFFSET 4000 LIMIT 50`,
    [rep.userId],
  );
  return [
    ['inbox mine, first page (unread)', rep.accessToken, () => `/v1/inbox?limit=${PAGE}`],
    [
      'inbox mine, read page at 4,000 (cursor)',
      rep.accessToken,
      (i) => `/v1/inbox?limit=${PAGE}&cursor=mine.${pick(inboxDeep, i)}`,
    ],
    ['inbox all, first page', admin.accessToken, () => `/v1/inbox?filter=all&limit=${PAGE}`],
    ['inbox unassigned, first page', admin.accessToken, () => `/v1/inbox?filter=unassigned&limit=${PAGE}`],
    ['unfiltered, first page', admin.accessToken, () => `/v1/conversations?limit=${PAGE}`],
    [
      'unfiltered, page at 50,000 (cursor)',
      admin.accessToken,
      (i) => `/v1/conversations?limit=${PAGE}&cursor=${pick(orgDeep, i)}`,
    ],
    ['mine=true, first page', rep.accessToken, () => `/v1/conversations?mine=true&limit=${PAGE}`],
    [
      'mine=true, page at 4,000 (cursor)',
      rep.accessToken,
      (i) => `/v1/conversations?mine=true&limit=${PAGE}&cursor=${pick(mineDeep, i)}`,
    ],
    ['by phone', admin.accessToken, (i) => `/v1/conversations?phone=${pick(phones, i)}&limit=${PAGE}`],
    [
      'by CRM record',
      admin.accessToken,
      (i) => `/v1/conversations?crm=hubspot&objectType=contact&crmId=${pick(records, i)}&limit=${PAGE}`,
    ],
    [
      'by CRM record, no object type',
      admin.accessToken,
      (i) => `/v1/conversations?crm=hubspot&crmId=${pick(records, i)}&limit=${PAGE}`,
    ],
  ];
}

/** An org seeded as above, with its measured rep and an admin (who sees every conversation) signed in. */
async function benchOrg(
  db: BenchDb,
  relay: Awaited<ReturnType<typeof testRelay>>,
  o: { name: string; emailPrefix: string; conversations: number; senderNumbers: [string, string] },
) {
  const { app } = relay;
  const now = new Date('2026-11-20T17:00:00Z');
  const { orgId } = await createOrg(db, o.name);
  const reps: string[] = [];
  for (let k = 1; k < REPS; k += 1)
    reps.push(await testUser(db, { orgId, email: `${o.emailPrefix}rep${k}@example.com`, now }));
  const email = (who: string) => `${o.emailPrefix}${who}@example.com`;
  const rep = await signedInUser(app, db, { orgId, email: email('rep0'), role: 'rep', now });
  const admin = await signedInUser(app, db, { orgId, email: email('admin'), role: 'admin', now });
  await seedConversationList(db, {
    orgId,
    reps: [rep.userId, ...reps],
    conversations: o.conversations,
    senderNumbers: o.senderNumbers,
  });
  // Customers the scaling table's sends text, opted in by the admin: +1 <area> 555 6000 on, in an
  // area code outside quiet hours for the next half hour of the relay's clock.
  const recipients = sendableRecipients(SCALING_RECIPIENTS, 30 * 60_000, relay.clock(), 6000).phones;
  for (const phone of recipients) {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/consent',
      headers: { authorization: `Bearer ${admin.accessToken}` },
      payload: { phone, kind: 'opt_in', source: 'web_form', evidence: 'Signed the web form' },
    });
    if (response.statusCode !== 201) throw new Error(`opt-in failed: ${response.body}`);
  }
  const scaling: ScalingOrg = {
    orgId,
    conversations: o.conversations,
    messages: o.conversations * MESSAGES_PER_CONVERSATION,
    adminToken: admin.accessToken,
    repUserId: rep.userId,
    repToken: rep.accessToken,
    sender: o.senderNumbers[0],
    recipients,
  };
  return { orgId, rep, admin, scaling };
}

export async function runConversationListBench(requests = 200): Promise<ConversationListReport> {
  const reason = await unavailable('postgres');
  if (reason !== null) return { status: 'skipped', reason };
  const bench = await openBenchDatabase('postgres');
  const { db } = bench;
  try {
    const started = performance.now();
    const relay = await testRelay(db);
    const smaller: ScalingOrg[] = [];
    for (const [i, conversations] of SMALLER_ORGS.entries()) {
      const org = await benchOrg(db, relay, {
        name: `Bench Dental ${conversations}`,
        emailPrefix: `small${i}-`,
        conversations,
        senderNumbers: [`+1202555011${2 * i}`, `+1202555011${2 * i + 1}`],
      });
      smaller.push(org.scaling);
    }
    const { orgId, rep, admin, scaling } = await benchOrg(db, relay, {
      name: 'Bench Dental',
      emailPrefix: '',
      conversations: CONVERSATIONS,
      senderNumbers: ['+12025550100', '+12025550101'],
    });
    const seedSeconds = (performance.now() - started) / 1000;
    const base = await relay.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const [messages] = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM messages WHERE org_id = $1',
        [orgId],
      );
      const plans = await listPlans(db, orgId, rep, admin);
      const scenarios: ListScenario[] = [];
      for (const [name, token, pathFor] of plans) {
        const { latency, rows } = await timeRequests(base, token, requests, pathFor);
        scenarios.push({ name, latency, rows, pass: latency.p95 <= TARGET_P95_MS });
      }
      const scalingReport = await measureScaling(db, base, [...smaller, scaling], requests);
      return {
        status: 'measured',
        conversations: CONVERSATIONS,
        messages: messages?.n ?? 0,
        seedSeconds,
        requestsPerScenario: requests,
        targetP95Ms: TARGET_P95_MS,
        scenarios,
        scaling: scalingReport,
      };
    } finally {
      await relay.close();
    }
  } finally {
    await bench.dispose();
  }
}

const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 1)} ms`;

/** The report as the bench prints it: one line per scenario with its verdict. */
export function conversationListLines(report: ConversationListReport): string[] {
  if (report.status === 'skipped') return [`=== conversation list: SKIPPED: ${report.reason} ===`];
  return [
    `=== PostgreSQL: GET /v1/conversations, ${report.conversations.toLocaleString('en-US')} conversations / ` +
      `${report.messages.toLocaleString('en-US')} messages in one org (seeded in ${report.seedSeconds.toFixed(0)} s) ===`,
    `    ${report.requestsPerScenario} sequential ${PAGE}-row pages per line over HTTP with a session token; target p95 <= ${report.targetP95Ms} ms`,
    ...report.scenarios.map(
      (s) =>
        `    ${s.name.padEnd(38)} p50 ${ms(s.latency.p50).padStart(8)}  p95 ${ms(s.latency.p95).padStart(8)}  ` +
        `p99 ${ms(s.latency.p99).padStart(8)}  rows ${String(s.rows).padStart(3)}  ${s.pass ? 'PASS' : 'FAIL'}`,
    ),
    ...scalingLines(report.scaling),
  ];
}

/**
 * `BENCH_ONLY=lists npm run bench`: this section alone. Its figures replace the
 * conversationList entry of bench-results/latest.json and leave the other sections' as they were.
 */
export async function runConversationListAlone(): Promise<number> {
  const report = await runConversationListBench();
  for (const line of conversationListLines(report)) console.log(line);
  await mergeIntoLatest('conversationList', report);
  return 0;
}
