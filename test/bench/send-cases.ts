/**
 * The send bench's costlier cases (issue #20, item 3): the plain send texts a thousand opted-in
 * recipients in turn with no CRM record and nobody watching, the cheapest send there is. Each case
 * here adds one cost a real org pays, is measured in the same alternating rounds as the plain
 * send, and is judged by the same targets:
 * - recipients in a frequency-capped state, each texted at most twice in the run, so every send
 *   counts the recipient's last 24 hours and none is refused;
 * - texts that name their CRM record, so every send upserts the contact and reads its time zone;
 * - reps' panels open on the org's event stream, so every send is written to each of them;
 * - one thread per lane texted over and over (thousands of texts a minute to a handful of
 *   customers): every send rewrites a thread row that the sends before it rewrote, the worst case
 *   for PostgreSQL's row versions.
 */
import type { App } from '../../server/http/services.ts';
import { optIn, type TestOrg } from '../helpers/relay.ts';
import { cappedRecipients, MAX_CAPPED_RECIPIENTS } from '../helpers/sendable-recipients.ts';
import type { Subscribers } from './load.ts';
import type { SendShape, SendSummary } from './send-throughput.ts';

/** Each case's own discarded warm-up (the relay is warm by then; its new rows and plans are not). */
export const CASE_WARMUP_MS = 1000;
/** Reps with the panel open on a busy afternoon. */
export const SUBSCRIBERS = 20;

/** A case before it is measured: what it sends, to whom. */
export interface CaseShape {
  name: string;
  /** What the case costs the relay over the plain send, for the report. */
  detail: string;
  recipients: string[];
  send: SendShape;
  /** Texts per recipient the rules allow in 24 hours, where a rule caps them. */
  capPerRecipient?: number;
}

/** A case as measured. */
export interface SendCase {
  name: string;
  detail: string;
  send: SendSummary;
  /** send.perSecond over the bare route's. */
  routeRatio: number;
  /** Events the subscribers read, all together (the event-stream case only), else null. */
  subscriberEvents: number | null;
  /** Requests the case sent in all (warm-up included) and the recipients it had for them. */
  recipientsTexted: number;
  recipients: number;
  capPerRecipient: number | null;
}

/** Opts every phone in, 16 at a time: thousands of capped recipients take seconds, not minutes. */
export async function optInAll(app: App, org: TestOrg, phones: readonly string[]): Promise<void> {
  for (let i = 0; i < phones.length; i += 16) {
    await Promise.all(phones.slice(i, i + 16).map((phone) => optIn(app, org, phone)));
  }
}

/**
 * The cases, their recipients opted in. `expectedSends` bounds what one case may send in the whole
 * run (warm-up included, with a margin), so the capped recipients are enough for two texts each.
 */
export async function sendCases(options: {
  app: App;
  org: TestOrg;
  concurrency: number;
  expectedSends: number;
  /** The plain send's opted-in recipients, one per lane. */
  recipients: string[];
  /** Opted-in recipients of their own (the CRM case's threads), taken in turn. */
  crmRecipients: string[];
  /** Opted-in recipients, one per lane (the hot-thread case). */
  hotRecipients: string[];
}): Promise<CaseShape[]> {
  const { app, org } = options;
  const cappedCount = Math.min(
    MAX_CAPPED_RECIPIENTS,
    Math.max(options.concurrency * 4, Math.ceil(options.expectedSends / 2)),
  );
  const capped = cappedRecipients(cappedCount);
  await optInAll(app, org, capped);
  const contactIds = options.crmRecipients.map((_, i) => `bench-contact-${i + 1}`);
  const subscribers: Subscribers = {
    count: SUBSCRIBERS,
    path: '/v1/events',
    headers: { authorization: org.auth.authorization },
  };
  return [
    {
      name: 'frequency-capped recipients',
      detail: `${cappedCount} recipients in FL and MD (3 texts per 24 h), texted in turn: each send counts the recipient's last 24 hours`,
      recipients: capped,
      send: { rotate: true },
      capPerRecipient: 3,
    },
    {
      name: 'CRM-linked contacts',
      detail: 'each text names its CRM record: the contact is upserted and its time zone read',
      recipients: options.crmRecipients,
      send: { rotate: true, contactIds },
    },
    {
      name: `${SUBSCRIBERS} live event streams`,
      detail: `${SUBSCRIBERS} panels hold GET /v1/events open: each send is written to all of them`,
      recipients: options.recipients,
      send: { rotate: true, subscribers },
    },
    {
      name: 'one hot thread per lane',
      detail: `each lane texts its own customer again and again (${options.hotRecipients.length} threads): every send rewrites a row just rewritten`,
      recipients: options.hotRecipients,
      send: {},
    },
  ];
}

/** What makes a case's figure untrustworthy, beyond failed requests. */
export function caseProblems(c: SendCase): string[] {
  const problems: string[] = [];
  if (c.subscriberEvents === 0) problems.push(`${c.name}: the subscribers read no event`);
  if (c.capPerRecipient !== null && c.recipientsTexted > c.recipients * c.capPerRecipient) {
    problems.push(
      `${c.name}: ${c.recipientsTexted} sends to ${c.recipients} recipients, over the cap of ${c.capPerRecipient} each: raise the recipients`,
    );
  }
  return problems;
}
