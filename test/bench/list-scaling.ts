/**
 * Issue #20 (2, 3): how a page of GET /v1/conversations grows with the org. Two orgs in the same
 * database, seeded alike (test/bench/conversation-list-bench.ts), one ten times the other; the same
 * 50-row pages of each are requested alternately, so both meet the same load, caches and noise,
 * and each figure is the large org's page time as a multiple of the small org's in this run (no
 * absolute time is judged). An index read in list order stays near 1; a scan and sort of the org,
 * as the list did before keyset pages, grows toward the ratio of the sizes (10).
 */

import type { Queryable } from '../../server/db/database.ts';
import { encodeListCursor } from '../../server/http/page-cursor.ts';
import { type LatencySummary, summarizeLatencies } from './stats.ts';

/** The large org's page time (p50) at most this multiple of the small org's. */
export const SCALING_TARGET_RATIO = 1.5;
const PAGE = 50;

/** One seeded org as the scaling figure reads it: its size, an admin's and a rep's session tokens. */
export interface ScalingOrg {
  orgId: string;
  conversations: number;
  adminToken: string;
  repUserId: string;
  repToken: string;
}

/** One list page measured in both orgs. */
export interface ScalingLine {
  name: string;
  small: LatencySummary;
  large: LatencySummary;
  /** large ÷ small, of the p50s and of the p95s. */
  ratioP50: number;
  ratioP95: number;
  pass: boolean;
}

export interface ScalingReport {
  smallConversations: number;
  largeConversations: number;
  requestsPerOrg: number;
  targetRatio: number;
  lines: ScalingLine[];
}

/** The list cursors that resume after each row the query returns (rows deep in a list). */
export async function deepCursors(db: Queryable, sql: string, params: unknown[]): Promise<string[]> {
  const rows = await db.query<{ at: string; id: string }>(sql, params);
  return rows.map((r) => encodeURIComponent(encodeListCursor({ lastMessageAt: r.at, id: r.id })));
}

type Page = { token: string; pathFor: (i: number) => string };

/** The pages each line requests of one org: first pages, and pages halfway down each list. */
async function orgPages(db: Queryable, org: ScalingOrg): Promise<[string, Page][]> {
  const orgMiddle = await deepCursors(
    db,
    `SELECT last_message_at::text AS at, id FROM conversations WHERE org_id = $1
      ORDER BY last_message_at DESC NULLS LAST, id OFFSET $2 LIMIT 50`,
    [org.orgId, Math.floor(org.conversations / 2)],
  );
  const mineMiddle = await deepCursors(
    db,
    `SELECT p.last_message_at::text AS at, p.conversation_id AS id FROM conversation_participants p
      WHERE p.user_id = $1 ORDER BY p.last_message_at DESC NULLS LAST, p.conversation_id
      OFFSET (SELECT count(*) / 2 FROM conversation_participants WHERE user_id = $1) LIMIT 50`,
    [org.repUserId],
  );
  const pick = (list: string[], i: number): string => list[i % list.length] as string;
  const list = `/v1/conversations?limit=${PAGE}`;
  return [
    ['unfiltered, first page', { token: org.adminToken, pathFor: () => list }],
    [
      'unfiltered, halfway down',
      { token: org.adminToken, pathFor: (i) => `${list}&cursor=${pick(orgMiddle, i)}` },
    ],
    ['mine=true, first page', { token: org.repToken, pathFor: () => `${list}&mine=true` }],
    [
      'mine=true, halfway down',
      { token: org.repToken, pathFor: (i) => `${list}&mine=true&cursor=${pick(mineMiddle, i)}` },
    ],
  ];
}

/** Milliseconds for one page; a page that is not a full 200 stops the bench. */
async function timePage(base: string, page: Page, i: number): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${base}${page.pathFor(i)}`, {
    headers: { authorization: `Bearer ${page.token}` },
  });
  const body = (await response.json()) as { conversations?: unknown[] };
  const elapsed = performance.now() - started;
  if (response.status !== 200 || body.conversations?.length !== PAGE)
    throw new Error(`${page.pathFor(i)}: ${response.status}, ${body.conversations?.length} rows`);
  return elapsed;
}

/** Each line's pages, small org and large org in turn, `requests` times each after a warm-up. */
export async function measureListScaling(
  db: Queryable,
  base: string,
  small: ScalingOrg,
  large: ScalingOrg,
  requests = 200,
): Promise<ScalingReport> {
  const smallPages = await orgPages(db, small);
  const largePages = await orgPages(db, large);
  const lines: ScalingLine[] = [];
  for (const [index, [name, smallPage]] of smallPages.entries()) {
    const largePage = (largePages[index] as [string, Page])[1];
    const s: number[] = [];
    const l: number[] = [];
    for (let i = -10; i < requests; i += 1) {
      const a = await timePage(base, smallPage, i + 10);
      const b = await timePage(base, largePage, i + 10);
      if (i >= 0) {
        s.push(a);
        l.push(b);
      }
    }
    const sl = summarizeLatencies(s);
    const ll = summarizeLatencies(l);
    const ratioP50 = ll.p50 / sl.p50;
    lines.push({
      name,
      small: sl,
      large: ll,
      ratioP50,
      ratioP95: ll.p95 / sl.p95,
      pass: ratioP50 <= SCALING_TARGET_RATIO,
    });
  }
  return {
    smallConversations: small.conversations,
    largeConversations: large.conversations,
    requestsPerOrg: requests,
    targetRatio: SCALING_TARGET_RATIO,
    lines,
  };
}

const count = (n: number): string => n.toLocaleString('en-US');

/** The scaling figure as the bench prints it: one line per page with its ratio and verdict. */
export function scalingLines(report: ScalingReport): string[] {
  return [
    `    scaling: the same ${PAGE}-row page at ${count(report.largeConversations)} ÷ at ${count(report.smallConversations)} ` +
      `conversations (two orgs, same run, requested in turn); target p50 ratio <= ${report.targetRatio}`,
    ...report.lines.map(
      (s) =>
        `    ${s.name.padEnd(38)} ratio p50 ${s.ratioP50.toFixed(2).padStart(5)}  p95 ${s.ratioP95.toFixed(2).padStart(5)}  ` +
        `${s.pass ? 'PASS' : 'FAIL'}`,
    ),
  ];
}
