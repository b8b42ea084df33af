/**
 * Inbound webhooks (issue #3): signed Plivo inbound-message webhooks per second as a ratio of
 * the bare single-row INSERT loop on the same database in the same run, and the latency from
 * sending a webhook to receiving its `message.created` event on GET /v1/events: on the relay
 * that took the webhook and, on PostgreSQL, on a second relay instance with its own connection
 * pool, so the event has to travel through LISTEN/NOTIFY.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Clock } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { resolveSecretsKey } from '../../server/crypto/secrets.ts';
import type { Database } from '../../server/db/database.ts';
import { openPostgres } from '../../server/db/postgres.ts';
import { type Relay, startRelay } from '../../server/runtime.ts';
import { daytimeAheadClock, seedOrg, type TestOrg } from '../helpers/relay.ts';
import { freePort } from '../helpers/relay-process.ts';
import { sendableRecipients } from '../helpers/sendable-recipients.ts';
import { type BaselineRun, prepareBaseline, runInsertBaseline } from './baseline.ts';
import { type BenchDatabase, countRows, type Engine, openBenchDatabase, unavailable } from './bench-db.ts';
import { failuresOf, sendRequest } from './load.ts';
import { type GeneratorRun, LoadGenerator, type LoadPlacement } from './load-generator.ts';
import { inboundParams, signedInbound } from './scenarios.ts';
import { optInAll } from './send-cases.ts';
import {
  type BaselineSummary,
  noiseNote,
  problemsOf,
  SendLoad,
  type SendSummary,
  summarizeBaseline,
  summarizeSend,
} from './send-throughput.ts';
import { SseClient } from './sse.ts';
import { type LatencySummary, summarizeLatencies } from './stats.ts';

export interface InboundBenchSettings {
  engine: Engine;
  /** Lanes for both the INSERT baseline and the webhook load. */
  concurrency: number;
  warmupMs: number;
  /** Measured time of each side (baseline and webhooks), split over `rounds`. */
  durationMs: number;
  rounds: number;
  placement: LoadPlacement;
  /** Webhooks per second of the latency phases (open loop, steady). */
  latencyRate: number;
  /** Measured webhooks per latency phase (after a short discarded warm-up). */
  latencyCount: number;
  /** Sends per second on the same relay while the latency is measured (paced); 0 for none. */
  backgroundSendRate: number;
}

/** The send load behind a latency phase, as it went. */
export interface BackgroundSends {
  /** The pace asked for, and what the relay took (202s per second). */
  ratePerSecond: number;
  achievedPerSecond: number;
  accepted: number;
  /** Non-202 answers and transport errors. */
  failed: number;
  firstProblem: string | null;
}

export interface EventLatency {
  /** Where the SSE client was connected. */
  path: 'same-instance' | 'cross-instance';
  ratePerSecond: number;
  sent: number;
  /** Webhooks answered 200. */
  accepted: number;
  /** message.created events matched to a measured webhook. */
  received: number;
  /** Accepted webhooks whose event never arrived (within 5 s of the last send). */
  missing: number;
  firstProblem: string | null;
  /** Webhook sent -> its message.created event read from the stream, in ms. */
  latency: LatencySummary;
  /** Sends to the webhook's relay during the phase, or null without. */
  background: BackgroundSends | null;
}

export type InboundBenchReport =
  | { engine: Engine; status: 'skipped'; reason: string }
  | {
      engine: Engine;
      status: 'measured';
      database: string;
      concurrency: number;
      warmupMs: number;
      durationMs: number;
      rounds: number;
      baseline: BaselineSummary;
      /** POST /webhooks/plivo/inbound: `operations` are 200 responses, `ratio` vs the baseline. */
      inbound: SendSummary;
      /** Outbox jobs queued by the measured webhooks: 0 expected (plain replies, no keywords). */
      autoReplies: number;
      latency: EventLatency[];
      problems: string[];
      notes: string[];
    };

const AUTH_ID = 'MABENCH0000000000001';
const AUTH_TOKEN = 'bench-token';
// Plain replies: no keyword, nothing to redact, so nothing but the message and its event is written.
const TEXT = 'Thanks, Tuesday at 10:30 works for me. See you then!';

/** Letters only, so a run id never reads like a card or account number to the redactor. */
const letters = (n: number): string =>
  [...randomBytes(n)].map((b) => String.fromCharCode(97 + (b % 26))).join('');

interface PlivoRelay {
  relay: Relay;
  origin: string;
}

/** The bench database's master key: the one generated for it, read by every relay started on it. */
async function benchSecretsKey(db: Database): Promise<string> {
  const key = await resolveSecretsKey(db, { configured: null, sandbox: true });
  if (key === null) throw new Error('the bench database has no secrets key');
  return key.bytes.toString('base64');
}

/**
 * A relay with the Plivo provider on a loopback port. PUBLIC_URL has to be the URL the webhooks
 * are signed for, so the port is chosen first and the relay then listens on exactly that port.
 */
async function listeningPlivoRelay(bench: BenchDatabase, db: Database, clock: Clock): Promise<PlivoRelay> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const config = {
      ...loadConfig({
        DATA_DIR: bench.dataDir,
        PUBLIC_URL: origin,
        LOG_LEVEL: 'silent',
        SMS_PROVIDER: 'plivo',
        PLIVO_AUTH_ID: AUTH_ID,
        PLIVO_AUTH_TOKEN: AUTH_TOKEN,
        // Nothing is sent (worker off); should anything try, it fails at once on loopback.
        PLIVO_API_URL: 'http://127.0.0.1:1',
        // Outside the sandbox the relay refuses to start without one; every relay on the bench
        // database shares it (as a real deployment must), or none opens the texts another sealed.
        SECRETS_KEY: await benchSecretsKey(db),
        SMTP_URL: 'smtp://127.0.0.1:1',
        ...(bench.databaseUrl === null ? {} : { DATABASE_URL: bench.databaseUrl }),
      }),
      workerEnabled: false,
    };
    const relay = await startRelay(config, { db, logger: false, clock });
    try {
      await relay.app.listen({ port, host: '127.0.0.1' });
      return { relay, origin };
    } catch (error) {
      await relay.close();
      // Someone took the port between probing and listening: pick another.
      if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt >= 5) throw error;
    }
  }
}

/** The org's key and sender number, as a send load sends with them. */
const byKey = (org: TestOrg) => ({ authorization: org.auth.authorization, from: org.sender });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends `count` signed webhooks to `webhookRelay` at `rate` per second (open loop: the schedule
 * does not wait for responses) while an SSE client on `eventsOrigin` waits for each one's
 * message.created event, matched by its unique text.
 */
async function measureEventLatency(options: {
  path: EventLatency['path'];
  webhookRelay: PlivoRelay;
  eventsOrigin: string;
  org: TestOrg;
  /**
   * The customers texting, each webhook from the next: one customer sending 50 texts a second
   * would queue every webhook on that customer's consent lock and thread row.
   */
  froms: string[];
  rate: number;
  count: number;
  warmup: number;
  /** Started with the measured webhooks, for about as long; resolves when it has stopped. */
  background: ((durationMs: number) => Promise<BackgroundSends>) | null;
}): Promise<EventLatency> {
  const run = letters(6);
  const sentAt = new Map<string, { at: number; measured: boolean }>();
  const latencies: number[] = [];
  let received = 0;
  let wanted = 0;
  let allIn: (() => void) | null = null;
  const client = await SseClient.connect(`${options.eventsOrigin}/v1/events`, options.org.auth, (event) => {
    // The background sends' events come down the same stream: skip them before parsing.
    if (event.type !== 'message.created' || !event.data.includes(`(ref ${run} `)) return;
    let body: unknown;
    try {
      body = (JSON.parse(event.data) as { message?: { body?: unknown } }).message?.body;
    } catch {
      return;
    }
    if (typeof body !== 'string') return;
    const sent = sentAt.get(body);
    if (sent === undefined) return;
    sentAt.delete(body);
    if (sent.measured) {
      latencies.push(event.receivedAt - sent.at);
      received += 1;
    }
    if (received >= wanted) allIn?.();
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const target = new URL(options.webhookRelay.origin);
  let accepted = 0;
  let firstProblem: string | null = null;
  let background: BackgroundSends | null = null;
  try {
    let fired = 0;
    const fire = async (label: string, measured: boolean): Promise<void> => {
      const from = options.froms[fired++ % options.froms.length] ?? '';
      const text = `${TEXT} (ref ${run} ${label})`;
      const request = signedInbound(
        options.webhookRelay.origin,
        AUTH_TOKEN,
        inboundParams(from, options.org.sender.slice(1), text, `lat-${run}-${label}`),
        `n-lat-${run}-${label}`,
      );
      sentAt.set(text, { at: performance.now(), measured });
      try {
        const response = await sendRequest(agent, target, request, 10_000);
        if (response.status === 200) {
          if (measured) accepted += 1;
        } else {
          sentAt.delete(text);
          firstProblem ??= `HTTP ${response.status}: ${response.body.slice(0, 300)}`;
        }
      } catch (error) {
        sentAt.delete(text);
        firstProblem ??= `transport error: ${String(error)}`;
      }
    };
    const interval = 1000 / options.rate;
    const paced = async (n: number, label: (i: number) => string, measured: boolean) => {
      const start = performance.now();
      const inFlight: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const wait = start + i * interval - performance.now();
        if (wait > 1) await sleep(wait);
        inFlight.push(fire(label(i), measured));
      }
      await Promise.all(inFlight);
    };
    // Warm-up (discarded): a new stream and, cross-instance, a cold second relay.
    await paced(options.warmup, (i) => `w${i}`, false);
    await sleep(300);
    wanted = options.count;
    const done = new Promise<void>((resolve) => {
      allIn = resolve;
    });
    // The background load starts a moment before the measured webhooks and ends with them.
    const sends = options.background?.((options.count / options.rate) * 1000 + 500) ?? null;
    if (sends !== null) await sleep(250);
    await paced(options.count, (i) => `m${i}`, true);
    background = sends === null ? null : await sends;
    wanted = accepted;
    if (received < wanted) await Promise.race([done, sleep(5000)]);
  } finally {
    agent.destroy();
    await client.close();
  }
  const missing = accepted - received;
  if (client.error !== null) firstProblem ??= `event stream: ${client.error}`;
  return {
    path: options.path,
    ratePerSecond: options.rate,
    sent: options.count,
    accepted,
    received,
    missing,
    firstProblem,
    latency: summarizeLatencies(latencies),
    background,
  };
}

export async function benchInbound(settings: InboundBenchSettings): Promise<InboundBenchReport> {
  const reason = await unavailable(settings.engine);
  if (reason !== null) return { engine: settings.engine, status: 'skipped', reason };
  const bench = await openBenchDatabase(settings.engine);
  const generator = new LoadGenerator(settings.placement);
  try {
    await prepareBaseline(bench.db);
    const insertLoop = (durationMs: number) =>
      runInsertBaseline(bench.db, {
        concurrency: settings.concurrency,
        durationMs,
        maxRows: 1_000_000,
        orgId: randomUUID(),
        body: TEXT,
      });
    const roundMs = settings.durationMs / settings.rounds;
    const countInbound = () =>
      countRows(bench.db, `SELECT count(*)::int AS n FROM messages WHERE direction = 'inbound'`);
    const countJobs = () => countRows(bench.db, 'SELECT count(*)::int AS n FROM outbox_jobs');

    // From 17:00 UTC, whatever the hour of the run: the background sends are outside quiet hours.
    const clock = daytimeAheadClock();
    const relay = await listeningPlivoRelay(bench, bench.db, clock);
    const sender = new LoadGenerator('process');
    const baselineRuns: BaselineRun[] = [];
    const inboundRuns: GeneratorRun[] = [];
    let rowsStored = 0;
    let autoReplies = 0;
    const latency: EventLatency[] = [];
    try {
      const org = await seedOrg(bench.db);
      const runId = letters(4);
      let stretch = 0;
      const webhooks = (durationMs: number) => {
        stretch += 1;
        return generator.run({
          origin: relay.origin,
          concurrency: settings.concurrency,
          durationMs,
          maxRequests: 200_000,
          expectStatus: 200,
          scenario: {
            kind: 'inbound',
            publicUrl: relay.origin,
            authToken: AUTH_TOKEN,
            to: org.sender.slice(1),
            // One customer per lane: 1 202 555 2000, 2001, ... texting the org's number.
            froms: Array.from({ length: settings.concurrency }, (_, i) => `1202555${2000 + i}`),
            text: TEXT,
            prefix: `in-${runId}-${stretch}`,
          },
        });
      };
      // Warm-up, discarded.
      await insertLoop(settings.warmupMs);
      await webhooks(settings.warmupMs);
      const jobsBefore = await countJobs();
      for (let round = 0; round < settings.rounds; round++) {
        const inboundRound = async () => {
          const before = await countInbound();
          inboundRuns.push(await webhooks(roundMs));
          rowsStored += (await countInbound()) - before;
        };
        const baselineRound = async () => {
          baselineRuns.push(await insertLoop(roundMs));
        };
        if (round % 2 === 0) {
          await baselineRound();
          await inboundRound();
        } else {
          await inboundRound();
          await baselineRound();
        }
      }
      autoReplies = (await countJobs()) - jobsBefore;

      // Reps texting customers while the webhooks come in: paced sends to the webhook's relay,
      // each to the next of a few hundred opted-in customers.
      const customers = sendableRecipients(300, 15 * 60_000, clock(), 3000).phones;
      if (settings.backgroundSendRate > 0) await optInAll(relay.relay.app, org, customers);
      const backgroundLoad = new SendLoad(sender, relay.origin, byKey(org), customers, 4, {
        rotate: true,
        ratePerSecond: settings.backgroundSendRate,
      });
      const background = async (durationMs: number): Promise<BackgroundSends> => {
        const run = await backgroundLoad.go(durationMs);
        return {
          ratePerSecond: settings.backgroundSendRate,
          achievedPerSecond: run.elapsedMs > 0 ? (run.ok / run.elapsedMs) * 1000 : 0,
          accepted: run.ok,
          failed: failuresOf(run),
          firstProblem: run.firstProblem,
        };
      };

      const latencyRun = (path: EventLatency['path'], eventsOrigin: string) =>
        measureEventLatency({
          path,
          webhookRelay: relay,
          eventsOrigin,
          org,
          // 1 202 555 4000 to 4499, not opted in or out: plain replies.
          froms: Array.from({ length: 500 }, (_, i) => `1202555${4000 + i}`),
          rate: settings.latencyRate,
          count: settings.latencyCount,
          warmup: Math.round(settings.latencyRate / 2),
          background: settings.backgroundSendRate > 0 ? background : null,
        });
      latency.push(await latencyRun('same-instance', relay.origin));
      if (bench.databaseUrl !== null) {
        // A second relay with its own pool and LISTEN connection on the same database: the
        // event reaches its SSE client only through NOTIFY and its own read of the events table.
        const db2 = await openPostgres({ url: bench.databaseUrl });
        try {
          const second = await listeningPlivoRelay(bench, db2, clock);
          try {
            latency.push(await latencyRun('cross-instance', second.origin));
          } finally {
            await second.relay.close();
          }
        } finally {
          await db2.close();
        }
      }
    } finally {
      await sender.close();
      await relay.relay.close();
    }
    const baseline = summarizeBaseline(baselineRuns);
    const inbound = summarizeSend(inboundRuns, rowsStored, baseline, false);
    const problems = problemsOf(inbound, 'inbound webhooks');
    if (baseline.errors > 0) problems.push(`baseline: ${baseline.errors} INSERTs failed`);
    if (autoReplies !== 0)
      problems.push(`inbound webhooks: ${autoReplies} outbox jobs queued (expected none)`);
    for (const l of latency) {
      const bg = l.background;
      if (bg !== null && bg.failed > 0)
        problems.push(`background sends (${l.path}): ${bg.failed} failed (first: ${bg.firstProblem ?? '?'})`);
      if (l.accepted !== l.sent || l.missing !== 0) {
        problems.push(
          `event latency (${l.path}): ${l.sent} sent, ${l.accepted} accepted, ${l.missing} events missing` +
            (l.firstProblem === null ? '' : ` (first: ${l.firstProblem})`),
        );
      }
    }
    const notes = [
      noiseNote('baseline', baseline.roundsPerSecond),
      noiseNote('inbound', inbound.roundsPerSecond),
    ].filter((note): note is string => note !== null);
    return {
      engine: settings.engine,
      status: 'measured',
      database: bench.description,
      concurrency: settings.concurrency,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs,
      rounds: settings.rounds,
      baseline,
      inbound,
      autoReplies,
      latency,
      problems,
      notes,
    };
  } finally {
    await generator.close();
    await bench.dispose();
  }
}
