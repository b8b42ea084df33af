/**
 * Issue #20 (2, 3): how a list page, a thread page and a send grow with the org. Orgs in the same
 * database, seeded alike (test/bench/conversation-list-bench.ts), 10k, 100k and 1M messages; the
 * same requests go to each org in turn, so all meet the same load, caches and noise, and each
 * figure is the largest org's time as a multiple of the smallest org's in this run (no absolute
 * time is judged). An index read in list order stays near 1; a scan and sort of the org, as the
 * list did before keyset pages, grows toward the ratio of the sizes (100).
 */

import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../server/db/database.ts';
import { encodeListCursor } from '../../server/http/page-cursor.ts';
import { type LatencySummary, summarizeLatencies } from './stats.ts';

/** The largest org's time (p50) at most this multiple of the smallest org's. */
export const SCALING_TARGET_RATIO = 1.5;
const PAGE = 50;
const SEND_BODY = 'Hi! Your appointment with Acme Dental is confirmed for Tue 10:30. Reply STOP to opt out.';

/** One seeded org as the scaling figure reads it. */
export interface ScalingOrg {
  orgId: string;
  conversations: number;
  messages: number;
  adminToken: string;
  repUserId: string;
  repToken: string;
  /** The org's sender number the sends go from. */
  sender: string;
  /** Opted-in customers without a thread yet: the sends text them in turn. */
  recipients: string[];
}

/** One request measured in every org, smallest org first. */
export interface ScalingLine {
  name: string;
  latencies: LatencySummary[];
  /** Largest ÷ smallest org, of the p50s and of the p95s. */
  ratioP50: number;
  ratioP95: number;
  pass: boolean;
}

export interface ScalingReport {
  sizes: { conversations: number; messages: number }[];
  requestsPerOrg: number;
  targetRatio: number;
  lines: ScalingLine[];
}

/** The list cursors that resume after each row the query returns (rows deep in a list). */
export async function deepCursors(db: Queryable, sql: string, params: unknown[]): Promise<string[]> {
  const rows = await db.query<{ at: string; id: string }>(sql, params);
  return rows.map((r) => encodeURIComponent(encodeListCursor({ lastMessageAt: r.at, id: r.id })));
}

/** One timed request: what to send, and what makes its answer right (else the bench stops). */
interface Probe {
  token: string;
  request(i: number): { method: 'GET' | 'POST'; path: string; body?: unknown; key?: string };
  /** Null when the answer is what it should be, else why not. */
  check(status: number, body: Record<string, unknown[] | undefined>): string | null;
}

const fullPage = (status: number, body: Record<string, unknown[] | undefined>) =>
  status === 200 && body.conversations?.length === PAGE
    ? null
    : `${status}, ${body.conversations?.length} rows`;

/** The requests each line makes of one org: list pages, a thread page and a send. */
async function orgProbes(db: Queryable, org: ScalingOrg): Promise<[string, Probe][]> {
  const orgMiddle = await deepCursors(
    db,
    `SELECT last_message_at::text AS at, id FROM conversations WHERE org_id = $1
      ORDER BY last_message_at DESC NULLS LAST, id OFFSET $2 LIMIT 50`,
    [org.orgId, Math.max(0, Math.min(Math.floor(org.conversations / 2), org.conversations - 2 * PAGE))],
  );
  // Halfway down each list, or only as far as leaves every cursor a full page after it (a small org's rep).
  const mineMiddle = await deepCursors(
    db,
    `WITH n AS (SELECT count(*) AS c FROM conversation_participants WHERE user_id = $1),
          o AS (SELECT c, greatest(0, least(c / 2, c - 100)) AS skip FROM n)
     SELECT p.last_message_at::text AS at, p.conversation_id AS id FROM conversation_participants p
      WHERE p.user_id = $1 ORDER BY p.last_message_at DESC NULLS LAST, p.conversation_id
      OFFSET (SELECT skip FROM o) LIMIT (SELECT greatest(1, least(50, c - 50 - skip)) FROM o)`,
    [org.repUserId],
  );
  const threads = (
    await db.query<{ id: string }>(
      'SELECT id FROM conversations WHERE org_id = $1 ORDER BY random() LIMIT 50',
      [org.orgId],
    )
  ).map((r) => r.id);
  const pick = <T>(list: T[], i: number): T => list[i % list.length] as T;
  const list = `/v1/conversations?limit=${PAGE}`;
  const get = (token: string, pathFor: (i: number) => string): Probe => ({
    token,
    request: (i) => ({ method: 'GET', path: pathFor(i) }),
    check: fullPage,
  });
  const run = randomBytes(4).toString('hex');
  return [
    ['unfiltered, first page', get(org.adminToken, () => list)],
    ['unfiltered, halfway down', get(org.adminToken, (i) => `${list}&cursor=${pick(orgMiddle, i)}`)],
    ['mine=true, first page', get(org.repToken, () => `${list}&mine=true`)],
    ['mine=true, halfway down', get(org.repToken, (i) => `${list}&mine=true&cursor=${pick(mineMiddle, i)}`)],
    [
      'thread page (a 10-message thread)',
      {
        token: org.adminToken,
        request: (i) => ({
          method: 'GET',
          path: `/v1/conversations/${pick(threads, i)}/messages?limit=${PAGE}`,
        }),
        check: (status, body) =>
          status === 200 && (body.messages?.length ?? 0) > 0
            ? null
            : `${status}, ${body.messages?.length} rows`,
      },
    ],
    [
      "send (POST /v1/messages, a rep's session)",
      {
        token: org.repToken,
        request: (i) => ({
          method: 'POST',
          path: '/v1/messages',
          key: `scaling-${run}-${i}`,
          body: { from: org.sender, to: pick(org.recipients, i), body: SEND_BODY },
        }),
        check: (status) => (status === 202 ? null : `${status}`),
      },
    ],
  ];
}

/** Milliseconds for one request; a wrong answer stops the bench. */
async function timeProbe(base: string, probe: Probe, i: number): Promise<number> {
  const { method, path, body, key } = probe.request(i);
  const started = performance.now();
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${probe.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await response.json()) as Record<string, unknown[] | undefined>;
  const elapsed = performance.now() - started;
  const wrong = probe.check(response.status, answer);
  if (wrong !== null) throw new Error(`${method} ${path}: ${wrong} ${JSON.stringify(answer).slice(0, 300)}`);
  return elapsed;
}

/** Each line's requests, every org in turn (smallest first), `requests` times each after a warm-up. */
export async function measureScaling(
  db: Queryable,
  base: string,
  orgs: readonly ScalingOrg[],
  requests = 200,
): Promise<ScalingReport> {
  const probes: [string, Probe][][] = [];
  for (const org of orgs) probes.push(await orgProbes(db, org));
  const lines: ScalingLine[] = [];
  for (const [index, [name]] of (probes[0] ?? []).entries()) {
    const samples: number[][] = orgs.map(() => []);
    for (let i = -10; i < requests; i += 1) {
      for (const [o, orgProbe] of probes.entries()) {
        const elapsed = await timeProbe(base, (orgProbe[index] as [string, Probe])[1], i + 10);
        if (i >= 0) samples[o]?.push(elapsed);
      }
    }
    const latencies = samples.map((s) => summarizeLatencies(s));
    const smallest = latencies[0] as LatencySummary;
    const largest = latencies[latencies.length - 1] as LatencySummary;
    const ratioP50 = largest.p50 / smallest.p50;
    lines.push({
      name,
      latencies,
      ratioP50,
      ratioP95: largest.p95 / smallest.p95,
      pass: ratioP50 <= SCALING_TARGET_RATIO,
    });
  }
  return {
    sizes: orgs.map((o) => ({ conversations: o.conversations, messages: o.messages })),
    requestsPerOrg: requests,
    targetRatio: SCALING_TARGET_RATIO,
    lines,
  };
}

/** 10,000 → "10k", 1,000,000 → "1M". */
export function shortCount(n: number): string {
  if (n >= 1_000_000 && n % 100_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1_000 && n % 100 === 0) return `${n / 1_000}k`;
  return n.toLocaleString('en-US');
}

const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 1)} ms`;

/** The scaling table as the bench prints it: p50 at each size, the ratio and its verdict. */
export function scalingLines(report: ScalingReport): string[] {
  const sizes = report.sizes.map((s) => `${shortCount(s.messages)} msgs`.padStart(10));
  return [
    `    scaling: the same request in orgs of ${report.sizes.map((s) => `${shortCount(s.conversations)} conversations / ${shortCount(s.messages)} messages`).join(', ')} ` +
      `(same run, requested in turn, ${report.requestsPerOrg} each); p50 per size; target largest ÷ smallest p50 <= ${report.targetRatio}`,
    `    ${''.padEnd(42)}${sizes.join('')}   ratio p50   p95`,
    ...report.lines.map(
      (s) =>
        `    ${s.name.padEnd(42)}${s.latencies.map((l) => ms(l.p50).padStart(10)).join('')}   ` +
        `${s.ratioP50.toFixed(2).padStart(9)} ${s.ratioP95.toFixed(2).padStart(5)}  ${s.pass ? 'PASS' : 'FAIL'}`,
    ),
  ];
}
