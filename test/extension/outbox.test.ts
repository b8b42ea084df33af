// @vitest-environment node
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { RelayError, type SendMessageInput } from '../../extension/lib/relay/relay-client.ts';
import type { Message } from '../../extension/lib/relay-types.ts';
import {
  BACKOFF_MAX_MS,
  discard,
  enqueue,
  isOffline,
  type LockFn,
  listOutbox,
  OutboxFlusher,
  type OutboxFlusherOptions,
  retryNow,
  STUCK_SENDING_MS,
} from '../../extension/lib/store/outbox.ts';
import { type OutboxItem, PanelDb } from '../../extension/lib/store/panel-db.ts';

const REP = '+15550001111';
const DANA = '+15552223333';
const SAM = '+15554445555';
const SCOPE = 'https://relay.example|alice@example.com';
const DANA_KEY = 'hubspot/contact/51';
const SAM_KEY = 'hubspot/contact/52';
const T0 = Date.parse('2025-03-01T12:00:00Z');

const opened: PanelDb[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

function openDb(factory: IDBFactory = new IDBFactory()): PanelDb {
  const db = new PanelDb({ indexedDB: factory, IDBKeyRange });
  opened.push(db);
  return db;
}

const offline = () =>
  new RelayError(0, { code: 'NETWORK_ERROR', message: 'Could not reach the relay', details: 'fetch failed' });
const answered = (status: number, code: string, retryAfterSeconds: number | null = null) =>
  new RelayError(status, { code, message: `relay said ${code}`, details: null }, retryAfterSeconds);

interface SendCall {
  body: string;
  key: string;
}

/** A relay stand-in that records every send; `fail` makes the next sends throw, in order. */
function fakeRelay(options: { delayMs?: number } = {}) {
  const calls: SendCall[] = [];
  const failures: unknown[] = [];
  const send = async (input: SendMessageInput, key: string): Promise<Message> => {
    calls.push({ body: input.body, key });
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    const failure = failures.shift();
    if (failure !== undefined) throw failure;
    const at = new Date(T0).toISOString();
    return {
      id: `msg-${key}`,
      conversationId: 'conv-1',
      direction: 'outbound',
      from: input.from,
      to: input.to ?? DANA,
      body: input.body,
      status: 'queued',
      segments: 1,
      encoding: 'GSM-7',
      errorCode: null,
      errorMessage: null,
      sentBy: null,
      scheduledFor: null,
      redactions: [],
      createdAt: at,
      updatedAt: at,
    };
  };
  return {
    calls,
    send,
    fail(...errors: unknown[]) {
      failures.push(...errors);
    },
  };
}

function clock(start = T0) {
  const state = { now: start };
  return { state, now: () => state.now };
}

function flusherFor(
  db: PanelDb,
  relay: ReturnType<typeof fakeRelay>,
  now: () => number,
  extra: Partial<OutboxFlusherOptions> = {},
) {
  const sent: Array<{ key: string; messageId: string }> = [];
  let changes = 0;
  const flusher = new OutboxFlusher({
    db,
    scope: SCOPE,
    send: relay.send,
    now,
    random: () => 0.5,
    onSent: (item, message) => sent.push({ key: item.idempotencyKey, messageId: message.id }),
    onChange: () => {
      changes += 1;
    },
    ...extra,
  });
  return { flusher, sent, changes: () => changes };
}

function queue(db: PanelDb, key: string, body: string, contactKey = DANA_KEY, now = T0) {
  const to = contactKey === DANA_KEY ? DANA : SAM;
  return enqueue(db, { scope: SCOPE, contactKey, input: { from: REP, to, body }, idempotencyKey: key }, now);
}

describe('outbox', () => {
  it('sends a queued text once, with the key of the original attempt, and removes it', async () => {
    const db = openDb();
    const relay = fakeRelay();
    const { now } = clock();
    const { flusher, sent, changes } = flusherFor(db, relay, now);
    await queue(db, 'key-1', 'Running 5 min late');

    const result = await flusher.flush();
    await flusher.flush();

    expect(relay.calls).toEqual([{ body: 'Running 5 min late', key: 'key-1' }]);
    expect(result).toEqual({ sent: 1, refused: 0, retryAt: null });
    expect(sent).toEqual([{ key: 'key-1', messageId: 'msg-key-1' }]);
    expect(await listOutbox(db, SCOPE)).toEqual([]);
    expect(changes()).toBeGreaterThan(0);
  });

  it('keeps one item when the rep retries a send that is already queued', async () => {
    const db = openDb();
    await queue(db, 'key-1', 'hello');
    await queue(db, 'key-1', 'hello', DANA_KEY, T0 + 5000);

    const items = await listOutbox(db, SCOPE);
    expect(items).toHaveLength(1);
    expect(items[0]?.createdAt).toBe(T0);
  });

  it('keeps a text waiting while the relay is unreachable and retries later with the same key', async () => {
    const db = openDb();
    const relay = fakeRelay();
    const time = clock();
    const { flusher } = flusherFor(db, relay, time.now);
    await queue(db, 'key-1', 'hello');
    relay.fail(offline());

    const first = await flusher.flush();
    const [waiting] = await listOutbox(db, SCOPE);
    expect(waiting).toMatchObject({
      state: 'waiting',
      attempts: 1,
      nextAttemptAt: T0 + 2000,
      lastError: { code: 'NETWORK_ERROR' },
    });
    expect(first).toEqual({ sent: 0, refused: 0, retryAt: T0 + 2000 });

    // Not due yet: nothing goes out.
    time.state.now = T0 + 1000;
    await flusher.flush();
    expect(relay.calls).toHaveLength(1);

    // Second failure doubles the wait.
    time.state.now = T0 + 2000;
    relay.fail(offline());
    await flusher.flush();
    expect((await listOutbox(db, SCOPE))[0]?.nextAttemptAt).toBe(T0 + 2000 + 4000);

    time.state.now = T0 + 6000;
    await flusher.flush();
    expect(relay.calls.map((c) => c.key)).toEqual(['key-1', 'key-1', 'key-1']);
    expect(await listOutbox(db, SCOPE)).toEqual([]);
  });

  it('caps the backoff and honours the relay’s Retry-After', async () => {
    const db = openDb();
    const relay = fakeRelay();
    const time = clock();
    const { flusher } = flusherFor(db, relay, time.now);
    await queue(db, 'key-1', 'hello');

    for (let i = 0; i < 8; i += 1) {
      relay.fail(answered(503, 'UNAVAILABLE'));
      await flusher.flush();
      time.state.now = (await listOutbox(db, SCOPE))[0]?.nextAttemptAt ?? 0;
    }
    const [capped] = await listOutbox(db, SCOPE);
    expect(capped?.attempts).toBe(8);
    expect((capped?.nextAttemptAt ?? 0) - time.state.now).toBe(0);

    const before = time.state.now;
    relay.fail(answered(429, 'TOO_MANY_ATTEMPTS', 90));
    await flusher.flush();
    expect((await listOutbox(db, SCOPE))[0]?.nextAttemptAt).toBe(before + 90_000);
    expect(90_000).toBeGreaterThan(BACKOFF_MAX_MS);

    time.state.now = before + 90_000;
    relay.fail(answered(408, 'TIMEOUT'));
    await flusher.flush();
    expect((await listOutbox(db, SCOPE))[0]).toMatchObject({
      state: 'waiting',
      nextAttemptAt: before + 90_000 + BACKOFF_MAX_MS,
    });
  });

  it('stops the pass at the first unreachable attempt instead of trying every queued text', async () => {
    const db = openDb();
    const relay = fakeRelay();
    const { flusher } = flusherFor(db, relay, clock(T0 + 10).now);
    await queue(db, 'dana-1', 'to Dana');
    await queue(db, 'sam-1', 'to Sam', SAM_KEY, T0 + 1);
    relay.fail(offline());

    await flusher.flush();

    expect(relay.calls.map((c) => c.key)).toEqual(['dana-1']);
    expect((await listOutbox(db, SCOPE)).map((i) => i.state)).toEqual(['waiting', 'waiting']);
  });

  it('marks a text the relay refused as failed with its code, holding that contact’s later texts', async () => {
    const db = openDb();
    const relay = fakeRelay();
    const { flusher } = flusherFor(db, relay, clock(T0 + 10).now);
    await queue(db, 'dana-1', 'first to Dana');
    await queue(db, 'dana-2', 'second to Dana');
    await queue(db, 'sam-1', 'to Sam', SAM_KEY, T0 + 1);
    relay.fail(answered(422, 'CONTENT_BLOCKED'));

    const result = await flusher.flush();

    expect(result).toMatchObject({ sent: 1, refused: 1 });
    expect(relay.calls.map((c) => c.key)).toEqual(['dana-1', 'sam-1']);
    const items = await listOutbox(db, SCOPE, DANA_KEY);
    expect(items.map((i) => [i.idempotencyKey, i.state])).toEqual([
      ['dana-1', 'failed'],
      ['dana-2', 'waiting'],
    ]);
    expect(items[0]?.lastError).toEqual({ code: 'CONTENT_BLOCKED', message: 'relay said CONTENT_BLOCKED' });
  });

  it('takes a 2xx it cannot read as sent, so the rep is not invited to send it again', async () => {
    const db = openDb();
    const relay = fakeRelay();
    const { flusher, sent } = flusherFor(db, relay, clock(T0 + 10).now);
    await queue(db, 'dana-1', 'Accepted, oddly answered');
    relay.fail(answered(202, 'BAD_RESPONSE'));

    const result = await flusher.flush();

    expect(result).toMatchObject({ sent: 1, refused: 0 });
    expect(sent).toEqual([]);
    expect(await listOutbox(db, SCOPE)).toEqual([]);
  });

  it('sends the held texts once the rep discards the refused one', async () => {
    const db = openDb();
    const relay = fakeRelay();
    const { flusher } = flusherFor(db, relay, clock().now);
    await queue(db, 'dana-1', 'refused');
    await queue(db, 'dana-2', 'held');
    relay.fail(answered(403, 'FORBIDDEN'));
    await flusher.flush();

    expect(await discard(db, 'dana-1', T0)).toBe(true);
    expect(await discard(db, 'dana-1', T0)).toBe(false);
    await flusher.flush();

    expect(relay.calls.map((c) => c.key)).toEqual(['dana-1', 'dana-2']);
    expect(await listOutbox(db, SCOPE)).toEqual([]);
  });

  it('retries a refused text now, with the same key, when the rep asks', async () => {
    const db = openDb();
    const relay = fakeRelay();
    const time = clock();
    const { flusher, sent } = flusherFor(db, relay, time.now);
    await queue(db, 'dana-1', 'hello');
    relay.fail(answered(409, 'CONFLICT'));
    await flusher.flush();
    await flusher.flush();
    expect(relay.calls).toHaveLength(1);

    time.state.now = T0 + 10_000;
    expect(await retryNow(db, 'dana-1', time.state.now)).toBe(true);
    expect((await listOutbox(db, SCOPE))[0]).toMatchObject({
      state: 'waiting',
      attempts: 0,
      lastError: null,
    });
    await flusher.flush();

    expect(relay.calls.map((c) => c.key)).toEqual(['dana-1', 'dana-1']);
    expect(sent.map((s) => s.key)).toEqual(['dana-1']);
    expect(await retryNow(db, 'dana-1')).toBe(false);
  });

  it('keeps texts waiting, not failed, while the rep is signed out (401) or on an unexpected error', async () => {
    const db = openDb();
    const relay = fakeRelay();
    const time = clock();
    const { flusher } = flusherFor(db, relay, time.now);
    await queue(db, 'dana-1', 'hello');

    relay.fail(answered(401, 'UNAUTHORIZED'));
    await flusher.flush();
    expect((await listOutbox(db, SCOPE))[0]).toMatchObject({
      state: 'waiting',
      lastError: { code: 'UNAUTHORIZED' },
    });

    time.state.now = T0 + BACKOFF_MAX_MS;
    relay.fail(new TypeError('boom'));
    await flusher.flush();
    expect((await listOutbox(db, SCOPE))[0]).toMatchObject({
      state: 'waiting',
      lastError: { code: 'UNEXPECTED', message: 'boom' },
    });
  });

  it('sends each text exactly once when two tabs flush at the same time', async () => {
    const factory = new IDBFactory();
    const relay = fakeRelay({ delayMs: 5 });
    const { now } = clock();
    const tabA = flusherFor(openDb(factory), relay, now);
    const tabB = flusherFor(openDb(factory), relay, now);
    const setup = openDb(factory);
    for (let i = 0; i < 5; i += 1) {
      await queue(setup, `dana-${i}`, `to Dana ${i}`);
      await queue(setup, `sam-${i}`, `to Sam ${i}`, SAM_KEY);
    }

    const results = await Promise.all([tabA.flusher.flush(), tabB.flusher.flush(), tabA.flusher.flush()]);

    const keys = relay.calls.map((c) => c.key);
    expect(keys).toHaveLength(10);
    expect(new Set(keys).size).toBe(10);
    expect(results.reduce((n, r) => n + r.sent, 0)).toBe(10);
    expect([...tabA.sent, ...tabB.sent]).toHaveLength(10);
    expect(await listOutbox(setup, SCOPE)).toEqual([]);
  });

  it('sends each text once even when flushers share no lock, since each claims its item first', async () => {
    const factory = new IDBFactory();
    const relay = fakeRelay({ delayMs: 5 });
    const { now } = clock();
    const noLock: LockFn = (_name, fn) => fn();
    const tabA = flusherFor(openDb(factory), relay, now, { lock: noLock });
    const tabB = flusherFor(openDb(factory), relay, now, { lock: noLock });
    const setup = openDb(factory);
    for (let i = 0; i < 3; i += 1) await queue(setup, `dana-${i}`, `to Dana ${i}`);

    await Promise.all([tabA.flusher.flush(), tabB.flusher.flush()]);
    await tabA.flusher.flush();

    expect(relay.calls.map((c) => c.key)).toEqual(['dana-0', 'dana-1', 'dana-2']);
  });

  it('takes a lock named after the scope, so another identity’s outbox flushes independently', async () => {
    const db = openDb();
    const names: string[] = [];
    const recording: LockFn = (name, fn) => {
      names.push(name);
      return fn();
    };
    const { flusher } = flusherFor(db, fakeRelay(), clock().now, { lock: recording });

    await flusher.flush();

    expect(names).toEqual([`crm-texting:outbox:${SCOPE}`]);
  });

  it('resends an attempt cut short by a crash with the same key, but leaves one still in flight alone', async () => {
    const db = openDb();
    const relay = fakeRelay();
    const time = clock(T0 + STUCK_SENDING_MS + 1000);
    const { flusher } = flusherFor(db, relay, time.now);
    const stuck: OutboxItem = {
      idempotencyKey: 'dana-1',
      scope: SCOPE,
      contactKey: DANA_KEY,
      input: { from: REP, to: DANA, body: 'crashed mid-send' },
      createdAt: T0,
      state: 'sending',
      attempts: 1,
      nextAttemptAt: T0,
      lastError: null,
      sendingSince: T0,
    };
    await db.outbox.bulkAdd([
      stuck,
      {
        ...stuck,
        idempotencyKey: 'sam-1',
        contactKey: SAM_KEY,
        input: { from: REP, to: SAM, body: 'in flight in another tab' },
        sendingSince: time.state.now - 30_000,
      },
    ]);

    expect(await discard(db, 'sam-1', time.state.now)).toBe(false);
    expect(await retryNow(db, 'sam-1', time.state.now)).toBe(false);
    await flusher.flush();

    expect(relay.calls).toEqual([{ body: 'crashed mid-send', key: 'dana-1' }]);
    expect((await listOutbox(db, SCOPE)).map((i) => [i.idempotencyKey, i.state])).toEqual([
      ['sam-1', 'sending'],
    ]);
  });

  it('sends oldest first and each contact’s texts in the order the rep wrote them', async () => {
    const db = openDb();
    const relay = fakeRelay();
    const { flusher } = flusherFor(db, relay, clock(T0 + 10).now);
    // Same millisecond, and keys that sort against the writing order.
    await queue(db, 'z-dana-first', 'Dana 1', DANA_KEY, T0);
    await queue(db, 'a-dana-second', 'Dana 2', DANA_KEY, T0);
    await queue(db, 'm-sam', 'Sam 1', SAM_KEY, T0 + 1);
    await queue(db, 'b-dana-third', 'Dana 3', DANA_KEY, T0 + 1);

    await flusher.flush();

    const danas = relay.calls.filter((c) => c.body.startsWith('Dana')).map((c) => c.body);
    expect(danas).toEqual(['Dana 1', 'Dana 2', 'Dana 3']);
    expect(relay.calls).toHaveLength(4);
    expect(relay.calls[0]?.body).toBe('Dana 1');
  });

  it('tells an unreachable relay from one that answered', () => {
    expect(isOffline(offline())).toBe(true);
    expect(isOffline(answered(503, 'UNAVAILABLE'))).toBe(false);
    expect(isOffline(new Error('x'))).toBe(false);
  });
});
