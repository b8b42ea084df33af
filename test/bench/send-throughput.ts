import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Clock } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { type Relay, startRelay } from '../../server/runtime.ts';
import { daytimeAheadClock, seedOrg, signedInUser, type TestOrg } from '../helpers/relay.ts';
import { sendableRecipients } from '../helpers/sendable-recipients.ts';
import { BARE_ROUTE_PATH, startBareRoute } from './bare-route.ts';
import { type BaselineRun, prepareBaseline, runInsertBaseline } from './baseline.ts';
import {
  type BenchDatabase,
  countMessages,
  countRows,
  type Engine,
  openBenchDatabase,
  unavailable,
} from './bench-db.ts';
import { failuresOf, type Subscribers } from './load.ts';
import { type GeneratorRun, LoadGenerator, type LoadPlacement, otherPlacement } from './load-generator.ts';
import { type CpuProfileSummary, profileThisThread } from './profile.ts';
import {
  CASE_WARMUP_MS,
  type CaseShape,
  caseProblems,
  optInAll,
  type SendCase,
  sendCases,
} from './send-cases.ts';
import { type LatencySummary, summarizeLatencies } from './stats.ts';

export type { Engine };
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
  /** Where the HTTP load generator runs for the measured send side (and the worker-on phase). */
  placement: LoadPlacement;
  /**
   * Also measure the send side with the generator in the other placement, in the same
   * alternating rounds (informational), so the effect of the placement is visible.
   */
  comparePlacement: boolean;
  /** A CPU-profiled stretch of send load (generator in its own process); 0 skips it. */
  profileMs: number;
  /**
   * `npm run bench -- --profile`: the profiled stretch's whole CPU profile is written here (a
   * .cpuprofile file per engine) and its summary lists more functions.
   */
  profileDir: string | null;
  /** Minimum send/baseline ratio, or null where the target does not apply (PGlite). */
  target: number | null;
  /** Minimum send/bare-route ratio (both sends: org key and user session), or null. */
  routeTarget: number | null;
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
  /** Where the load generator ran. */
  placement: LoadPlacement;
  /** Event-loop utilisation of the relay's thread over the measured rounds (0..1, time-weighted). */
  relayElu: number;
  /** Event-loop utilisation of the generator's thread (its process or worker); null when in-process. */
  generatorElu: number | null;
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
      /** The same sends signed in as a rep (a session token), in the same rounds. */
      sendSession: SendSummary;
      /** The second yardstick: a bare Fastify route doing one INSERT (./bare-route.ts). */
      bareRoute: SendSummary;
      /** send / bareRoute and sendSession / bareRoute. */
      routeRatio: number;
      sessionRouteRatio: number;
      routeTarget: number | null;
      /** Informational: the same send load with the generator in the other placement. */
      sendOtherPlacement: SendSummary | null;
      /** Informational: the same load while the worker sends and the sandbox calls back. */
      sendWithWorker: SendSummary | null;
      /** The costlier sends, in the same rounds and judged by the same targets (./send-cases.ts). */
      cases: SendCase[];
      /** Self time of the relay's thread under send load (outbox worker off), if profiled. */
      profile: { relayElu: number; requests: number; cpu: CpuProfileSummary } | null;
      target: number | null;
      pass: boolean | null;
      /** Reasons the figures cannot be trusted (failed requests, missing rows, baseline errors). */
      problems: string[];
      /** Caveats that do not invalidate the run (e.g. a noisy machine). */
      notes: string[];
    };

// A typical appointment text: GSM-7, one segment. The baseline stores the same body.
const BODY = 'Hi! Your appointment with Acme Dental is confirmed for Tue 10:30. Reply STOP to opt out.';

/** Starts the relay on the shared database handle, listening on a loopback port. */
async function listeningRelay(
  bench: BenchDatabase,
  workerEnabled: boolean,
  clock: Clock,
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
  const relay = await startRelay(config, { db: bench.db, logger: false, clock });
  try {
    await relay.app.listen({ port: 0, host: '127.0.0.1' });
    const address = relay.app.server.address() as AddressInfo;
    return { relay, origin: `http://127.0.0.1:${address.port}` };
  } catch (error) {
    await relay.close();
    throw error;
  }
}

/** What a send load adds to the cheapest send (one opted-in recipient per lane, no CRM record). */
export interface SendShape {
  /** Another route taking the same body (the bench's bare Fastify route). */
  path?: string;
  /** Take the recipients in turn across stretches instead of one per lane. */
  rotate?: boolean;
  /** Each recipient's CRM record (same index), sent as `contact`. */
  contactIds?: string[];
  /** Event streams held open on the relay while the stretch sends. */
  subscribers?: Subscribers;
  /** Paced at this many sends a second instead of as fast as the relay answers. */
  ratePerSecond?: number;
}

/** Sends to one relay: each lane texts its own opted-in recipient, every request a new key. */
export class SendLoad {
  private readonly run = randomBytes(4).toString('hex');
  private stretch = 0;
  /** With `rotate`: the next recipient index, so no stretch starts again from the first. */
  private rotated = 0;

  constructor(
    private readonly generator: LoadGenerator,
    private readonly origin: string,
    private readonly sender: { authorization: string; from: string },
    private readonly recipients: readonly string[],
    private readonly concurrency: number,
    private readonly shape: SendShape = {},
  ) {}

  /** One stretch of load; keys carry the stretch number so no two requests ever share one. */
  async go(durationMs: number): Promise<GeneratorRun> {
    this.stretch += 1;
    const { path, rotate, contactIds, subscribers, ratePerSecond } = this.shape;
    const run = await this.generator.run({
      origin: this.origin,
      concurrency: this.concurrency,
      durationMs,
      maxRequests: 200_000,
      expectStatus: 202,
      ...(subscribers === undefined ? {} : { subscribers }),
      ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
      scenario: {
        kind: 'send',
        authorization: this.sender.authorization,
        from: this.sender.from,
        recipients: [...this.recipients],
        body: BODY,
        prefix: `bench-${this.run}-${this.generator.placement}-${this.stretch}`,
        ...(path === undefined ? {} : { path }),
        ...(rotate === true ? { rotateFrom: this.rotated } : {}),
        ...(contactIds === undefined ? {} : { contactIds }),
      },
    });
    this.rotated += run.ok + failuresOf(run);
    return run;
  }

  /** Requests sent so far with `rotate` (each took the next recipient). */
  get sent(): number {
    return this.rotated;
  }
}

/** One measured side of the rounds: its load, its stretches, and the rows they stored. */
interface Side {
  load: SendLoad;
  runs: GeneratorRun[];
  stored: number;
  count(db: BenchDatabase['db']): Promise<number>;
}

/** Recipients the plain sends (and the CRM case) take in turn. */
const PLAIN_RECIPIENTS = 1000;

const newSide = (load: SendLoad, count: Side['count'] = countMessages): Side => ({
  load,
  runs: [],
  stored: 0,
  count,
});

const rate = (operations: number, elapsedMs: number): number =>
  elapsedMs > 0 ? (operations / elapsedMs) * 1000 : 0;
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

export function summarizeBaseline(runs: readonly BaselineRun[]): BaselineSummary {
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

/** Time-weighted mean of the runs' event-loop utilisation. */
function meanElu(runs: readonly GeneratorRun[], pick: (run: GeneratorRun) => number | null): number | null {
  let weighted = 0;
  let time = 0;
  for (const run of runs) {
    const value = pick(run);
    if (value === null) return null;
    weighted += value * run.elapsedMs;
    time += run.elapsedMs;
  }
  return time > 0 ? weighted / time : null;
}

export function summarizeSend(
  runs: readonly GeneratorRun[],
  rowsStored: number,
  baseline: { perSecond: number },
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
    placement: runs[0]?.placement ?? 'process',
    relayElu: meanElu(runs, (r) => r.relayElu) ?? 0,
    generatorElu: meanElu(runs, (r) => r.generatorElu),
    unexpected,
    errors: sum(runs.map((r) => r.errors)),
    replayed: sum(runs.map((r) => r.replayed)),
    firstProblem: runs.find((r) => r.firstProblem !== null)?.firstProblem ?? null,
    rowsStored,
    ratio: baseline.perSecond > 0 ? perSecond / baseline.perSecond : 0,
  };
}

export function problemsOf(send: SendSummary, name: string): string[] {
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

/**
 * Every target of the engine met by both sends (org key and session), in a run without failures;
 * null when the engine has no target.
 */
function passOf(
  settings: SendBenchSettings,
  overInsert: number[],
  overRoute: number[],
  problems: string[],
): boolean | null {
  if (settings.target === null && settings.routeTarget === null) return null;
  const { target, routeTarget } = settings;
  const meets = (ratios: number[], min: number | null) => min === null || ratios.every((r) => r >= min);
  return meets(overInsert, target) && meets(overRoute, routeTarget) && problems.length === 0;
}

const countBaselineRows = (db: BenchDatabase['db']): Promise<number> =>
  countRows(db, 'SELECT count(*)::int AS n FROM bench_baseline');

/** Flags a side whose rounds differ by more than half: the ratio is then less certain. */
export function noiseNote(name: string, rates: readonly number[]): string | null {
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
 *   3. `rounds` alternating stretches of the INSERT loop and of POST /v1/messages (and, when
 *      comparing, of the same send load from the other generator placement), never overlapping
 *      (PGlite is one single-connection instance; on PostgreSQL each side would be the other's
 *      noise), in an order that rotates every round;
 *   4. optionally a CPU-profiled stretch of send load, then the same send load with the worker
 *      on (both informational).
 */
export async function benchSendThroughput(settings: SendBenchSettings): Promise<SendBenchReport> {
  const reason = await unavailable(settings.engine);
  if (reason !== null) return { engine: settings.engine, status: 'skipped', reason };
  const bench = await openBenchDatabase(settings.engine);
  const generators = new Map<LoadPlacement, LoadGenerator>();
  const generator = (placement: LoadPlacement): LoadGenerator => {
    const existing = generators.get(placement);
    if (existing !== undefined) return existing;
    const created = new LoadGenerator(placement);
    generators.set(placement, created);
    return created;
  };
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
    // The relay runs at 17:00 UTC (then in real time), whatever the hour of the run: noon on the
    // East Coast, so every case, the frequency-capped states too, is outside quiet hours.
    const clock = daytimeAheadClock();
    // The plain sends' recipients: +1 <area> 555 1000 to 1999 (far from the sandbox's failure
    // numbers), in an area code whose local time is outside quiet hours for the next 15 minutes,
    // texted in turn, as an org texts its customers: a few texts per thread in the run, not
    // thousands to a handful of threads (that is the hot-thread case, ./send-cases.ts).
    const span = 15 * 60_000;
    const plain = sendableRecipients(PLAIN_RECIPIENTS, span, clock());
    const { areaCode, phones: recipients } = plain;
    // The cases' own recipients of the same kind: their own threads.
    const crmRecipients = sendableRecipients(PLAIN_RECIPIENTS, span, clock(), 5000).phones;
    const hotRecipients = sendableRecipients(settings.concurrency, span, clock(), 8000).phones;
    const roundMs = settings.durationMs / settings.rounds;
    const other = otherPlacement(settings.placement);

    const off = await listeningRelay(bench, false, clock);
    let org: TestOrg;
    const baselineRuns: BaselineRun[] = [];
    let sides: { send: Side; session: Side; bare: Side; other: Side | null } | null = null;
    let cases: { shape: CaseShape; side: Side }[] = [];
    let bare: { origin: string; close(): Promise<void> } | null = null;
    let profile: { relayElu: number; requests: number; cpu: CpuProfileSummary } | null = null;
    try {
      org = await seedOrg(bench.db);
      await optInAll(off.relay.app, org, [...recipients, ...crmRecipients, ...hotRecipients]);
      const byKey = { authorization: org.auth.authorization, from: org.sender };
      // A rep signed in with a password: the send path with a session token, not the org key.
      const rep = await signedInUser(off.relay.app, bench.db, {
        orgId: org.orgId,
        email: `bench-rep-${randomBytes(3).toString('hex')}@bench.test`,
        role: 'rep',
        now: clock(),
      });
      const bySession = { authorization: rep.auth.authorization, from: org.sender };
      bare = await startBareRoute(bench.db, randomUUID());
      const bareOrigin = bare.origin;
      const sendTo = (
        who: { authorization: string; from: string },
        to: readonly string[],
        shape: SendShape = { rotate: true },
        placement = settings.placement,
      ) => {
        const origin = shape.path === undefined ? off.origin : bareOrigin;
        return new SendLoad(generator(placement), origin, who, to, settings.concurrency, shape);
      };
      const load = sendTo(byKey, recipients);
      sides = {
        send: newSide(load),
        session: newSide(sendTo(bySession, recipients)),
        bare: newSide(sendTo(byKey, recipients, { path: BARE_ROUTE_PATH, rotate: true }), countBaselineRows),
        other: settings.comparePlacement ? newSide(sendTo(byKey, recipients, undefined, other)) : null,
      };
      // Warm-up, discarded: JIT, query plans, pool connections, the api_keys last_used_at touch.
      await insertLoop(settings.warmupMs);
      const warm = await load.go(settings.warmupMs);
      await sides.session.load.go(Math.min(1000, settings.warmupMs));
      await sides.bare.load.go(settings.warmupMs);
      // The relay is warm by now; the other generator only needs its own JIT warmed.
      await sides.other?.load.go(Math.min(1000, settings.warmupMs));
      // The costlier sends, each in its own side of the same rounds (./send-cases.ts).
      const shapes = await sendCases({
        app: off.relay.app,
        org,
        concurrency: settings.concurrency,
        // Three times the warm-up's pace: the warm-up is the slowest stretch (cold plans and caches).
        expectedSends: (3 * rate(warm.ok, warm.elapsedMs) * (settings.durationMs + CASE_WARMUP_MS)) / 1000,
        recipients,
        crmRecipients,
        hotRecipients,
      });
      cases = shapes.map((shape) => ({ shape, side: newSide(sendTo(byKey, shape.recipients, shape.send)) }));
      for (const { side } of cases) await side.load.go(CASE_WARMUP_MS);
      // Statistics as a running installation has them (autovacuum on PostgreSQL, the relay's
      // table upkeep on PGlite). Without them the plans chosen on the empty tables stay cached:
      // the replay lookup then walked every message of the org, and each round was slower.
      await bench.db.query('ANALYZE');
      const stretch = async (side: Side): Promise<void> => {
        const before = await side.count(bench.db);
        side.runs.push(await side.load.go(roundMs));
        side.stored += (await side.count(bench.db)) - before;
      };
      const steps: (() => Promise<void>)[] = [
        async () => {
          baselineRuns.push(await insertLoop(roundMs));
        },
        ...[sides.send, sides.session, sides.bare, sides.other, ...cases.map((c) => c.side)]
          .filter((side): side is Side => side !== null)
          .map((side) => () => stretch(side)),
      ];
      for (let round = 0; round < settings.rounds; round++) {
        // B S O, S O B, O B S ...: no side always runs first or right after the same other side.
        for (let i = 0; i < steps.length; i++) await steps[(round + i) % steps.length]?.();
      }
      if (settings.profileMs > 0) {
        // Generator in its own process, so the profile of this thread is the relay alone.
        const profiled = sendTo(byKey, recipients, undefined, 'process');
        let run: GeneratorRun | null = null;
        const cpu = await profileThisThread(
          async () => {
            run = await profiled.go(settings.profileMs);
          },
          settings.profileDir === null
            ? {}
            : {
                top: 30,
                writeTo: path.join(settings.profileDir, `relay-send-${settings.engine}.cpuprofile`),
              },
        );
        const done = run as GeneratorRun | null;
        profile = { relayElu: done?.relayElu ?? 0, requests: done?.ok ?? 0, cpu };
      }
    } finally {
      await bare?.close();
      await off.relay.close();
    }
    if (sides === null) throw new Error('the send bench did not start');
    const baseline = summarizeBaseline(baselineRuns);
    const summary = (side: Side) => summarizeSend(side.runs, side.stored, baseline, false);
    const send = summary(sides.send);
    const sendSession = summary(sides.session);
    const bareRoute = summary(sides.bare);
    const overBare = (side: SendSummary) =>
      bareRoute.perSecond > 0 ? side.perSecond / bareRoute.perSecond : 0;
    const sendOtherPlacement = sides.other === null ? null : summary(sides.other);
    const measuredCases: SendCase[] = cases.map(({ shape, side }) => {
      const caseSend = summary(side);
      return {
        name: shape.name,
        detail: shape.detail,
        send: caseSend,
        routeRatio: overBare(caseSend),
        subscriberEvents:
          shape.send.subscribers === undefined ? null : sum(side.runs.map((r) => r.subscriberEvents)),
        recipientsTexted: side.load.sent,
        recipients: shape.recipients.length,
        capPerRecipient: shape.capPerRecipient ?? null,
      };
    });

    let sendWithWorker: SendSummary | null = null;
    if (settings.workerOnDurationMs > 0) {
      // Retire the worker-off backlog: otherwise the worker would spend this phase catching
      // up on thousands of old jobs instead of keeping pace with new ones.
      await bench.db.query(
        `UPDATE outbox_jobs SET state = 'done', updated_at = now() WHERE state = 'queued'`,
      );
      const on = await listeningRelay(bench, true, clock);
      try {
        const load = new SendLoad(
          generator(settings.placement),
          on.origin,
          { authorization: org.auth.authorization, from: org.sender },
          recipients,
          settings.concurrency,
          { rotate: true },
        );
        await load.go(settings.warmupMs);
        const before = await countMessages(bench.db);
        const run = await load.go(settings.workerOnDurationMs);
        const stored = (await countMessages(bench.db)) - before;
        sendWithWorker = summarizeSend([run], stored, baseline, true);
      } finally {
        await on.relay.close();
      }
    }

    const problems = problemsOf(send, `send (worker off, generator ${send.placement})`);
    problems.push(...problemsOf(sendSession, 'send with a session token'));
    problems.push(...problemsOf(bareRoute, 'bare Fastify route'));
    if (sendOtherPlacement !== null)
      problems.push(...problemsOf(sendOtherPlacement, `send (generator ${sendOtherPlacement.placement})`));
    if (sendWithWorker !== null) problems.push(...problemsOf(sendWithWorker, 'send (worker on)'));
    for (const c of measuredCases) problems.push(...caseProblems(c));
    if (baseline.errors > 0) problems.push(`baseline: ${baseline.errors} INSERTs failed`);
    const notes = [
      noiseNote('baseline', baseline.roundsPerSecond),
      noiseNote('send', send.roundsPerSecond),
      noiseNote('bare route', bareRoute.roundsPerSecond),
    ].filter((note): note is string => note !== null);
    notes.push(
      `the relay's clock runs from 17:00 UTC; the plain sends text ${recipients.length} recipients in turn, in area code ${areaCode} (no state rule, no frequency cap)`,
    );
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
      sendSession,
      bareRoute,
      routeRatio: overBare(send),
      sessionRouteRatio: overBare(sendSession),
      routeTarget: settings.routeTarget,
      sendOtherPlacement,
      sendWithWorker,
      cases: measuredCases,
      profile,
      target: settings.target,
      // A run with failed requests proves nothing either way, so it cannot pass.
      pass: passOf(
        settings,
        [send.ratio, sendSession.ratio, ...measuredCases.map((c) => c.send.ratio)],
        [overBare(send), overBare(sendSession), ...measuredCases.map((c) => c.routeRatio)],
        problems,
      ),
      problems,
      notes,
    };
  } finally {
    for (const g of generators.values()) await g.close();
    await bench.dispose();
  }
}
