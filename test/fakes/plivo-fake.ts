import { randomInt, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signPlivoV3 } from '../../server/providers/plivo-signature.ts';
import { FakeRentedNumbers } from './plivo-numbers.ts';
import { FakePowerpacks } from './plivo-powerpacks.ts';

/**
 * A contract-faithful Plivo Message API on 127.0.0.1 (../shared/reference/sdk-contracts.md §1):
 * JSON bodies, trailing-slash paths, Basic auth, 202 with message_uuid, snake_case list objects,
 * and signed (X-Plivo-Signature-V3) status callbacks and inbound messages sent to the relay; plus
 * the account's rented numbers (`numbers`, see plivo-numbers.ts) and its Powerpacks' number pools
 * (`powerpacks`, see plivo-powerpacks.ts).
 * It can be told to misbehave, so the relay's delivery guarantees are tested against the real SDK.
 */

export type SendFailure =
  | '500' // answered 500, message not accepted
  | '429' // answered 429, not accepted
  | '400' // permanent refusal (invalid destination)
  | 'timeout-accepted' // accepted, but the answer comes after the client gave up
  | 'timeout-lost' // never accepted, never answered in time
  | 'slow'; // accepted and answered late but in time

export type CallbackFailure = 'drop' | 'duplicate' | 'reorder';

export interface AcceptedMessage {
  uuid: string;
  src: string;
  dst: string;
  text: string;
  callbackUrl: string | null;
  time: Date;
  log: unknown;
}

export interface FakePlivoOptions {
  authId: string;
  authToken: string;
  /** How long a "timeout" response is held; must exceed the client's timeout. */
  hangMs?: number;
  slowMs?: number;
  callbackDelayMs?: number;
  /** Random failures: probability per request, and which kinds to draw from. */
  chaos?: { sendFailureRate: number; sendKinds: SendFailure[]; callbackFailureRate: number; seed?: number };
}

interface Delivery {
  url: string;
  params: Record<string, string>;
  attempts: number;
}

/** A small deterministic PRNG so a chaos run can be replayed from its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const plivoTime = (d: Date): string => `${d.toISOString().replace('T', ' ').slice(0, 19)}+00:00`;
const digits = (n: string): string => n.replace(/^\+/, '');

export class FakePlivo {
  readonly accepted: AcceptedMessage[] = [];
  readonly requests: { method: string; path: string; body: unknown; headers: http.IncomingHttpHeaders }[] =
    [];
  readonly queuedFailures: SendFailure[] = [];
  readonly queuedCallbackFailures: CallbackFailure[] = [];
  /** The numbers the account rents: `numbers.rent('+14155550100')` before the relay asks. */
  readonly numbers: FakeRentedNumbers;
  /** The account's Powerpacks: `powerpacks.create('Acme')`, then `powerpacks.add(uuid, number)`. */
  readonly powerpacks: FakePowerpacks;
  callbackAttempts = 0;
  private readonly server: http.Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly random: () => number;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  baseUrl = '';

  constructor(private readonly options: FakePlivoOptions) {
    this.random = mulberry32(options.chaos?.seed ?? 1);
    this.numbers = new FakeRentedNumbers(options.authId);
    this.powerpacks = new FakePowerpacks(options.authId, this.numbers);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ api_id: randomUUID(), error: String(error) }));
      });
    });
  }

  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Waits until every scheduled callback has been delivered or given up. */
  async settle(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.timers.size > 0 || this.inFlight.size > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  countFor(dst: string, text: string): number {
    return this.accepted.filter((m) => m.dst === digits(dst) && m.text === text).length;
  }

  private later(ms: number, task: () => Promise<void>): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const run = task().finally(() => this.inFlight.delete(run));
      this.inFlight.add(run);
    }, ms);
    this.timers.add(timer);
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private nextFailure(): SendFailure | null {
    const queued = this.queuedFailures.shift();
    if (queued !== undefined) return queued;
    const chaos = this.options.chaos;
    if (chaos === undefined || this.random() >= chaos.sendFailureRate) return null;
    return chaos.sendKinds[Math.floor(this.random() * chaos.sendKinds.length)] ?? null;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.baseUrl);
    let body: unknown = null;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        this.json(res, 400, { api_id: randomUUID(), error: 'invalid JSON' });
        return;
      }
    }
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname + url.search,
      body,
      headers: req.headers,
    });
    const expected = `Basic ${Buffer.from(`${this.options.authId}:${this.options.authToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      this.json(res, 401, { api_id: randomUUID(), error: 'Authentication credentials invalid' });
      return;
    }
    const base = `/v1/Account/${this.options.authId}/Message/`;
    if (req.method === 'POST' && url.pathname === base) return this.create(body, res);
    if (req.method === 'GET' && url.pathname === base) return this.list(url, res);
    const one = url.pathname.startsWith(base) ? url.pathname.slice(base.length).replace(/\/$/, '') : '';
    const rented = this.numbers.answer(req.method ?? '', url.pathname);
    if (rented !== null) return this.json(res, rented.status, rented.body);
    const pooled = this.powerpacks.answer(req.method ?? '', url.pathname);
    if (pooled !== null) return this.json(res, pooled.status, pooled.body);
    if (req.method === 'GET' && one !== '') {
      const message = this.accepted.find((m) => m.uuid === one);
      if (message === undefined) this.json(res, 404, { api_id: randomUUID(), error: 'not found' });
      else this.json(res, 200, { api_id: randomUUID(), ...this.toObject(message) });
      return;
    }
    this.json(res, 404, { api_id: randomUUID(), error: 'not found' });
  }

  private create(body: unknown, res: http.ServerResponse): void {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const src = typeof b.src === 'string' ? b.src : '';
    const dst = typeof b.dst === 'string' ? b.dst : '';
    const text = typeof b.text === 'string' ? b.text : '';
    if ((src === '' && typeof b.powerpack_uuid !== 'string') || dst === '' || text === '') {
      this.json(res, 400, { api_id: randomUUID(), error: 'src, dst and text are required' });
      return;
    }
    const failure = this.nextFailure();
    const accept = (): string => {
      const uuid = randomUUID();
      const message: AcceptedMessage = {
        uuid,
        src: digits(src),
        dst: digits(dst),
        text,
        callbackUrl: typeof b.url === 'string' ? b.url : null,
        time: new Date(),
        log: b.log,
      };
      this.accepted.push(message);
      this.scheduleCallbacks(message);
      return uuid;
    };
    const ok = (uuid: string) =>
      this.json(res, 202, { api_id: randomUUID(), message: 'message(s) queued', message_uuid: [uuid] });
    switch (failure) {
      case '500':
        this.json(res, 500, { api_id: randomUUID(), error: 'internal server error' });
        return;
      case '429':
        this.json(res, 429, { api_id: randomUUID(), error: 'too many requests' });
        return;
      case '400':
        this.json(res, 400, { api_id: randomUUID(), error: 'dst parameter is invalid' });
        return;
      case 'timeout-accepted': {
        const uuid = accept();
        this.later(this.options.hangMs ?? 3000, async () => {
          if (!res.writableEnded && !res.destroyed) ok(uuid);
        });
        return;
      }
      case 'timeout-lost':
        this.later(this.options.hangMs ?? 3000, async () => {
          if (!res.writableEnded && !res.destroyed)
            this.json(res, 500, { api_id: randomUUID(), error: 'lost' });
        });
        return;
      case 'slow': {
        const uuid = accept();
        this.later(this.options.slowMs ?? 200, async () => {
          if (!res.writableEnded && !res.destroyed) ok(uuid);
        });
        return;
      }
      default:
        ok(accept());
    }
  }

  private toObject(m: AcceptedMessage): Record<string, unknown> {
    return {
      message_uuid: m.uuid,
      from_number: m.src,
      to_number: m.dst,
      message_time: plivoTime(m.time),
      message_direction: 'outbound',
      message_state: 'delivered',
      message_type: 'sms',
      units: 1,
      total_amount: '0.00500',
      total_rate: '0.00500',
      error_code: '',
      resource_uri: `/v1/Account/${this.options.authId}/Message/${m.uuid}/`,
    };
  }

  private list(url: URL, res: http.ServerResponse): void {
    const to = url.searchParams.get('to_number');
    const since = url.searchParams.get('message_time__gte');
    const sinceDate = since === null ? null : new Date(`${since.replace(' ', 'T')}Z`);
    const limit = Math.min(20, Number(url.searchParams.get('limit') ?? '20') || 20);
    const offset = Number(url.searchParams.get('offset') ?? '0') || 0;
    const matching = this.accepted
      .filter((m) => (to === null || m.dst === digits(to)) && (sinceDate === null || m.time >= sinceDate))
      .sort((a, b) => b.time.getTime() - a.time.getTime());
    const page = matching.slice(offset, offset + limit);
    this.json(res, 200, {
      api_id: randomUUID(),
      meta: { limit, offset, total_count: matching.length, next: null, previous: null },
      objects: page.map((m) => this.toObject(m)),
    });
  }

  private scheduleCallbacks(message: AcceptedMessage): void {
    if (message.callbackUrl === null) return;
    const base = {
      MessageUUID: message.uuid,
      From: message.src,
      To: message.dst,
      Type: 'sms',
      Units: '1',
      TotalRate: '0.00500',
      TotalAmount: '0.00500',
      MCC: '310',
      MNC: '410',
      PowerpackUUID: '',
    };
    const sent = { ...base, Status: 'sent', Sequence: '1', ErrorCode: '000' };
    const delivered = { ...base, Status: 'delivered', Sequence: '2', ErrorCode: '000' };
    let failure = this.queuedCallbackFailures.shift() ?? null;
    const chaos = this.options.chaos;
    if (failure === null && chaos !== undefined && this.random() < chaos.callbackFailureRate) {
      failure = (['drop', 'duplicate', 'reorder'] as const)[Math.floor(this.random() * 3)] ?? null;
    }
    const delay = this.options.callbackDelayMs ?? 50;
    const url = message.callbackUrl;
    if (failure === 'drop') return;
    if (failure === 'reorder') {
      this.deliverLater(url, delivered, delay);
      this.deliverLater(url, sent, delay * 3);
      return;
    }
    this.deliverLater(url, sent, delay);
    this.deliverLater(url, delivered, delay * 2);
    if (failure === 'duplicate') this.deliverLater(url, delivered, delay * 4);
  }

  private deliverLater(url: string, params: Record<string, string>, ms: number): void {
    const delivery: Delivery = { url, params, attempts: 0 };
    this.later(ms, () => this.deliver(delivery));
  }

  /** Posts a signed callback; like Plivo, retries with backoff while the relay is down. */
  private async deliver(delivery: Delivery): Promise<void> {
    delivery.attempts += 1;
    this.callbackAttempts += 1;
    let status = 0;
    try {
      status = await postSigned(delivery.url, delivery.params, this.options.authToken);
    } catch {
      status = 0;
    }
    if (status === 200 || status === 403 || delivery.attempts >= 40) return;
    this.later(Math.min(2000, 100 * 2 ** delivery.attempts), () => this.deliver(delivery));
  }

  /** A customer texts one of the relay's numbers; retried like Plivo until the relay answers 200. */
  async sendInbound(
    relayUrl: string,
    input: { from: string; to: string; text: string; uuid?: string },
  ): Promise<string> {
    const uuid = input.uuid ?? randomUUID();
    const params = {
      From: digits(input.from),
      To: digits(input.to),
      Text: input.text,
      Type: 'sms',
      MessageUUID: uuid,
      Units: '1',
      TotalRate: '0',
      TotalAmount: '0',
      MessageIntent: '',
      PowerpackUUID: '',
    };
    await new Promise<void>((resolve) => {
      const delivery: Delivery = { url: `${relayUrl}/webhooks/plivo/inbound`, params, attempts: 0 };
      const attempt = async (): Promise<void> => {
        delivery.attempts += 1;
        let status = 0;
        try {
          status = await postSigned(delivery.url, params, this.options.authToken);
        } catch {
          status = 0;
        }
        if (status === 200 || delivery.attempts >= 60) resolve();
        else this.later(Math.min(1000, 50 * 2 ** delivery.attempts), attempt);
      };
      void attempt();
    });
    return uuid;
  }
}

/** POSTs form params to a URL with Plivo's V3 signature and a fresh nonce; resolves to the status. */
export async function postSigned(
  url: string,
  params: Record<string, string>,
  authToken: string,
  nonce?: string,
): Promise<number> {
  const n = nonce ?? `${randomInt(1e9, 1e10)}${randomInt(1e9, 1e10)}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-plivo-signature-v3': signPlivoV3('POST', url, params, n, authToken),
      'x-plivo-signature-v3-nonce': n,
    },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(5000),
  });
  await response.arrayBuffer();
  return response.status;
}
