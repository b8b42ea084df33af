import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../server/config.ts';
import type { Database } from '../../server/db/database.ts';
import { migrate } from '../../server/db/migrate.ts';
import { openPglite } from '../../server/db/pglite.ts';
import { type Relay, startRelay } from '../../server/runtime.ts';
import { freshPostgres, POSTGRES_URL } from '../helpers/db.ts';
import { optIn, seedOrg, type TestOrg } from '../helpers/relay.ts';
import { type BaselineRun, prepareBaseline, runInsertBaseline } from './baseline.ts';
import { type LoadRun, runLoad } from './load.ts';
import { type LatencySummary, summarizeLatencies } from './stats.ts';

export type Engine = 'pglite' | 'postgres';

export interface SendBenchSettings {
  engine: Engine;
  /** Lanes for both the INSERT baseline and the HTTP load: the comparison needs the same number. */
  concurrency: number;
  warmupMs: number;
  /** Measured time of each side (baseline and send), split over `rounds`. */
  durationMs: number;
  /**
   * Baseline and send alternate in this many rounds (B S, S B, B S, ...), so a load spike from
   * elsewhere on the machine hits both sides instead of skewing the ratio.
   */
  rounds: number;
  /** Duration of the informational worker-enabled phase; 0 skips it. */
  workerOnDurationMs: number;
  /** Minimum send/baseline ratio, or null where the target does not apply (PGlite). */
  target: number | null;
}

/** Throughput and latency of one side, combined over its rounds. */
export interface PhaseSummary {
  /** Rows inserted (baseline) or 202 responses (send). */
  operations: number;
  elapsedMs: number;
  perSecond: number;
  /** Each round's rate: a wide spread means the machine was busy with something else. */
  roundsPerSecond: number[];
  latency: LatencySummary;
}

export interface BaselineSummary extends PhaseSummary {
  errors: number;
}

export interface SendSummary extends PhaseSummary {
  workerEnabled: boolean;
  /** Non-202 responses by status. */
  unexpected: Record<string, number>;
  /** Transport errors (refused, reset, timed out). */
  errors: number;
  /** Responses marked as idempotent replays; 0 expected, every key is unique. */
  replayed: number;
  firstProblem: string | null;
  /** Message rows the measured rounds added; should equal the 202s that were not replays. */
  rowsStored: number;
  /** perSecond / baseline perSecond. */
  ratio: number;
}

export type SendBenchReport =
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
      /** The measurement the target applies to: outbox worker off, so only the accept path runs. */
      send: SendSummary;
      /** Informational: the same load while the worker sends and the sandbox calls back. */
      sendWithWorker: SendSummary | null;
      target: number | null;
      pass: boolean | null;
      /** Reasons the figures cannot be trusted (failed requests, missing rows, baseline errors). */
      problems: string[];
      /** Caveats that do not invalidate the run (e.g. a noisy machine). */
      notes: string[];
    };

// A typical appointment text: GSM-7, one segment. The baseline stores the same body.
const BODY = 'Hi! Your appointment with Acme Dental is confirmed for Tue 10:30. Reply STOP to opt out.';

/** Where the bench database lives and how to get rid of it. */
interface BenchDatabase {
  db: Database;
  description: string;
  dataDir: string;
  databaseUrl: string | null;
  dispose(): Promise<void>;
}

/** Fails fast (3 s) when PostgreSQL is unreachable; pg would otherwise wait indefinitely. */
async function probePostgres(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** host:port/database, never the credentials. */
function where(url: string): string {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname}`;
}

async function openBenchDatabase(settings: SendBenchSettings, dataDir: string): Promise<BenchDatabase> {
  if (settings.engine === 'postgres') {
    // A database of its own (dropped afterwards), so runs never see each other's rows.
    const fresh = await freshPostgres();
    return {
      db: fresh.db,
      description: `PostgreSQL ${where(fresh.url)}`,
      dataDir,
      databaseUrl: fresh.url,
      dispose: () => fresh.drop(),
    };
  }
  // On disk like a real installation (in-memory PGlite would flatter both sides differently).
  const db = await openPglite({ dataDir });
  await migrate(db);
  return { db, description: `PGlite in ${dataDir}`, dataDir, databaseUrl: null, dispose: () => db.close() };
}

async function countMessages(db: Database): Promise<number> {
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
  return rows[0]?.n ?? 0;
}

/** Starts the relay on the shared database handle, listening on a loopback port. */
async function listeningRelay(
  bench: BenchDatabase,
  workerEnabled: boolean,
): Promise<{ relay: Relay; origin: string }> {
  const config = {
    ...loadConfig({
      DATA_DIR: bench.dataDir,
      PUBLIC_URL: 'http://127.0.0.1:1',
      LOG_LEVEL: 'silent',
      ...(bench.databaseUrl === null ? {} : { DATABASE_URL: bench.databaseUrl }),
    }),
    workerEnabled,
  };
  // Passing `db` shares the handle (and for PGlite the one instance) the baseline uses.
  const relay = await startRelay(config, { db: bench.db, logger: false });
  try {
    await relay.app.listen({ port: 0, host: '127.0.0.1' });
    const address = relay.app.server.address() as AddressInfo;
    return { relay, origin: `http://127.0.0.1:${address.port}` };
  } catch (error) {
    await relay.close();
    throw error;
  }
}

/** Sends to one relay: each lane texts its own opted-in recipient, every request a new key. */
class SendLoad {
  private readonly run = randomBytes(4).toString('hex');
  private stretch = 0;

  constructor(
    private readonly origin: string,
    private readonly org: TestOrg,
    private readonly recipients: readonly string[],
    private readonly concurrency: number,
  ) {}

  /** One stretch of load; keys carry the stretch number so no two requests ever share one. */
  go(durationMs: number): Promise<LoadRun> {
    this.stretch += 1;
    const prefix = `bench-${this.run}-${this.stretch}`;
    return runLoad({
      origin: this.origin,
      concurrency: this.concurrency,
      durationMs,
      maxRequests: 200_000,
      expectStatus: 202,
      build: (lane, seq) => ({
        method: 'POST',
        path: '/v1/messages',
        headers: {
          authorization: this.org.auth.authorization,
          'idempotency-key': `${prefix}-${lane}-${seq}`,
          'content-type': 'application/json',
        },
        // A recipient per lane: concurrent sends then do not queue on one conversation row.
        body: JSON.stringify({
          from: this.org.sender,
          to: this.recipients[lane % this.recipients.length],
          body: BODY,
        }),
      }),
    });
  }
}

const rate = (operations: number, elapsedMs: number): number =>
  elapsedMs > 0 ? (operations / elapsedMs) * 1000 : 0;
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

function summarizeBaseline(runs: readonly BaselineRun[]): BaselineSummary {
  const operations = sum(runs.map((r) => r.rows));
  const elapsedMs = sum(runs.map((r) => r.elapsedMs));
  return {
    operations,
    elapsedMs,
    perSecond: rate(operations, elapsedMs),
    roundsPerSecond: runs.map((r) => rate(r.rows, r.elapsedMs)),
    latency: summarizeLatencies(runs.flatMap((r) => r.latenciesMs)),
    errors: sum(runs.map((r) => r.errors)),
  };
}

function summarizeSend(
  runs: readonly LoadRun[],
  rowsStored: number,
  baseline: BaselineSummary,
  workerEnabled: boolean,
): SendSummary {
  const operations = sum(runs.map((r) => r.ok));
  const elapsedMs = sum(runs.map((r) => r.elapsedMs));
  const unexpected: Record<string, number> = {};
  for (const run of runs) {
    for (const [status, n] of Object.entries(run.unexpected))
      unexpected[status] = (unexpected[status] ?? 0) + n;
  }
  const perSecond = rate(operations, elapsedMs);
  return {
    operations,
    elapsedMs,
    perSecond,
    roundsPerSecond: runs.map((r) => rate(r.ok, r.elapsedMs)),
    latency: summarizeLatencies(runs.flatMap((r) => r.latenciesMs)),
    workerEnabled,
    unexpected,
    errors: sum(runs.map((r) => r.errors)),
    replayed: sum(runs.map((r) => r.replayed)),
    firstProblem: runs.find((r) => r.firstProblem !== null)?.firstProblem ?? null,
    rowsStored,
    ratio: baseline.perSecond > 0 ? perSecond / baseline.perSecond : 0,
  };
}

function problemsOf(send: SendSummary, name: string): string[] {
  const problems: string[] = [];
  const failed = Object.entries(send.unexpected).map(([status, n]) => `${n}x HTTP ${status}`);
  if (send.errors > 0) failed.push(`${send.errors} transport errors`);
  if (failed.length > 0) problems.push(`${name}: ${failed.join(', ')} (first: ${send.firstProblem ?? '?'})`);
  if (send.replayed > 0) problems.push(`${name}: ${send.replayed} responses were idempotent replays`);
  const expected = send.operations - send.replayed;
  if (send.rowsStored !== expected) {
    problems.push(`${name}: ${expected} accepted sends but ${send.rowsStored} message rows stored`);
  }
  return problems;
}

/** Flags a side whose rounds differ by more than half: the ratio is then less certain. */
function noiseNote(name: string, rates: readonly number[]): string | null {
  const low = Math.min(...rates);
  const high = Math.max(...rates);
  if (rates.length < 2 || low <= 0 || high / low <= 1.5) return null;
  return `${name} rounds ranged ${Math.round(low)}..${Math.round(high)}/s: the machine was busy with other work, treat the ratio as approximate`;
}

/**
 * The send endpoint's sustained throughput as a ratio of a bare single-row INSERT loop on the
 * same database at the same concurrency, all in this one run:
 *   1. bench database (fresh PostgreSQL database, or PGlite on disk in a temp dir), migrated;
 *   2. relay with the outbox worker off, on the same Database handle; org and one opted-in
 *      recipient per lane seeded; both sides warmed up;
 *   3. `rounds` alternating stretches of the INSERT loop and of POST /v1/messages, never
 *      overlapping (PGlite is one single-connection instance; on PostgreSQL each side would be
 *      the other's noise);
 *   4. optionally the same send load with the worker on (informational).
 */
export async function benchSendThroughput(settings: SendBenchSettings): Promise<SendBenchReport> {
  if (settings.engine === 'postgres') {
    // freshPostgres() creates the bench database on this server (DATABASE_URL).
    if (POSTGRES_URL === null)
      return { engine: 'postgres', status: 'skipped', reason: 'DATABASE_URL is not set' };
    const unreachable = await probePostgres(POSTGRES_URL);
    if (unreachable !== null) {
      return {
        engine: 'postgres',
        status: 'skipped',
        reason: `PostgreSQL at ${where(POSTGRES_URL)} is unreachable (${unreachable})`,
      };
    }
  }
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-bench-'));
  try {
    const bench = await openBenchDatabase(settings, dataDir);
    try {
      await prepareBaseline(bench.db);
      const insertLoop = (durationMs: number) =>
        runInsertBaseline(bench.db, {
          concurrency: settings.concurrency,
          durationMs,
          maxRows: 1_000_000,
          orgId: randomUUID(),
          body: BODY,
        });
      // One recipient per lane: +1 202 555 1000, 1001, ... (far from the sandbox's failure numbers).
      const recipients = Array.from({ length: settings.concurrency }, (_, i) => `+1202555${1000 + i}`);
      const roundMs = settings.durationMs / settings.rounds;

      const off = await listeningRelay(bench, false);
      let org: TestOrg;
      const baselineRuns: BaselineRun[] = [];
      const sendRuns: LoadRun[] = [];
      let rowsStored = 0;
      try {
        org = await seedOrg(bench.db);
        for (const phone of recipients) await optIn(off.relay.app, org, phone);
        const load = new SendLoad(off.origin, org, recipients, settings.concurrency);
        // Warm-up, discarded: JIT, query plans, pool connections, the api_keys last_used_at touch.
        await insertLoop(settings.warmupMs);
        await load.go(settings.warmupMs);
        for (let round = 0; round < settings.rounds; round++) {
          const sendRound = async () => {
            const before = await countMessages(bench.db);
            sendRuns.push(await load.go(roundMs));
            rowsStored += (await countMessages(bench.db)) - before;
          };
          const baselineRound = async () => {
            baselineRuns.push(await insertLoop(roundMs));
          };
          // B S, S B, B S ...: neither side always runs right after the other.
          if (round % 2 === 0) {
            await baselineRound();
            await sendRound();
          } else {
            await sendRound();
            await baselineRound();
          }
        }
      } finally {
        await off.relay.close();
      }
      const baseline = summarizeBaseline(baselineRuns);
      const send = summarizeSend(sendRuns, rowsStored, baseline, false);

      let sendWithWorker: SendSummary | null = null;
      if (settings.workerOnDurationMs > 0) {
        // Retire the worker-off backlog: otherwise the worker would spend this phase catching
        // up on thousands of old jobs instead of keeping pace with new ones.
        await bench.db.query(
          `UPDATE outbox_jobs SET state = 'done', updated_at = now() WHERE state = 'queued'`,
        );
        const on = await listeningRelay(bench, true);
        try {
          const load = new SendLoad(on.origin, org, recipients, settings.concurrency);
          await load.go(settings.warmupMs);
          const before = await countMessages(bench.db);
          const run = await load.go(settings.workerOnDurationMs);
          const stored = (await countMessages(bench.db)) - before;
          sendWithWorker = summarizeSend([run], stored, baseline, true);
        } finally {
          await on.relay.close();
        }
      }

      const problems = problemsOf(send, 'send (worker off)');
      if (sendWithWorker !== null) problems.push(...problemsOf(sendWithWorker, 'send (worker on)'));
      if (baseline.errors > 0) problems.push(`baseline: ${baseline.errors} INSERTs failed`);
      const notes = [
        noiseNote('baseline', baseline.roundsPerSecond),
        noiseNote('send', send.roundsPerSecond),
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
        send,
        sendWithWorker,
        target: settings.target,
        // A run with failed requests proves nothing either way, so it cannot pass.
        pass: settings.target === null ? null : send.ratio >= settings.target && problems.length === 0,
        problems,
        notes,
      };
    } finally {
      await bench.dispose();
    }
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}
