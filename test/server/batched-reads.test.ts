import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAccessToken } from '../../server/auth/sessions.ts';
import { batchedRead } from '../../server/db/batched-reads.ts';
import type { Database, Queryable } from '../../server/db/database.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { seedOrg, signedInUser, type TestRelay, testRelay } from '../helpers/relay.ts';

// #20 item 1: reads many requests make at once (a send's facts, a signed-in person's session)
// are answered by one statement. A batched read must never answer from data older than the
// moment it was asked, nor mix up whose answer is whose.
postgresSkipNote('batched session reads');

describe('a batched read', () => {
  it('answers each ask its own, and reads asked during a read only after it, in a later batch', async () => {
    const calls: { asks: number[]; startedAfter: number }[] = [];
    let asked = 0;
    let release: () => void = () => undefined;
    const read = batchedRead(async (_db: Queryable, asks: readonly number[]) => {
      calls.push({ asks: [...asks], startedAfter: asked });
      if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return asks.map((n) => n * 10);
    });
    const db: Queryable = { query: async () => [] };
    const ask = (n: number) => {
      asked = n;
      return read(db, n);
    };
    const first = ask(1);
    // Asked while the first read is in flight: none of them goes in the first read.
    const later = [2, 3, 4].map(ask);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await first).toBe(10);
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
    expect(calls[0]).toEqual({ asks: [1], startedAfter: 1 });
    // At most two reads are in flight: the second went at once with ask 2, the third took the
    // rest when a read finished. Every read started after its asks were asked.
    expect(calls.map((c) => c.asks)).toEqual([[1], [2], [3, 4]]);
    for (const call of calls.slice(1))
      expect(call.startedAfter).toBeGreaterThanOrEqual(Math.max(...call.asks));
  });

  it('fails every ask of a failed read with its error, and reads afresh for the next', async () => {
    let fail = true;
    const read = batchedRead(async (_db: Queryable, asks: readonly string[]) => {
      if (fail) throw new Error('connection reset');
      return asks.map((a) => a.toUpperCase());
    });
    const db: Queryable = { query: async () => [] };
    const failed = await Promise.allSettled([read(db, 'a'), read(db, 'b'), read(db, 'c')]);
    expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected', 'rejected']);
    fail = false;
    expect(await read(db, 'd')).toBe('D');
  });
});

describe.each(ENGINES)('session reads on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  let relay: TestRelay;

  beforeAll(async () => {
    ({ db, drop } = await freshDatabase(engine));
    relay = await testRelay(db);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  it('gives each of many simultaneous requests its own session, and none to a revoked one', async () => {
    const org = await seedOrg(db);
    const now = relay.clock();
    const reps = [];
    for (const name of ['ana', 'ben', 'cy', 'dee']) {
      reps.push(
        await signedInUser(relay.app, db, { orgId: org.orgId, email: `${name}@acme.test`, role: 'rep', now }),
      );
    }
    const [ana, ben, cy, dee] = reps as [
      (typeof reps)[0],
      (typeof reps)[0],
      (typeof reps)[0],
      (typeof reps)[0],
    ];
    await db.query('UPDATE auth_sessions SET revoked_at = $2 WHERE id = $1', [dee.sessionId, now]);
    const tokens = Array.from({ length: 40 }, (_, i) => [ana, ben, cy, dee][i % 4]?.accessToken ?? '');
    tokens.push('cta_not-a-real-token');
    const sessions = await Promise.all(tokens.map((t) => resolveAccessToken(db, t, relay.clock())));
    for (const [i, session] of sessions.entries()) {
      const who = [ana, ben, cy, dee][i % 4];
      if (i === 40 || who === dee) expect(session).toBeNull();
      else expect(session?.userId).toBe(who?.userId);
    }
  });

  it('refuses a session revoked a moment before the request, even in a burst of requests', async () => {
    const org = await seedOrg(db, { name: 'Beta Dental', sender: '+12025550188' });
    const rep = await signedInUser(relay.app, db, {
      orgId: org.orgId,
      email: 'eve@acme.test',
      role: 'rep',
      now: relay.clock(),
    });
    const burst = Array.from({ length: 20 }, () =>
      relay.app.inject({ method: 'GET', url: '/v1/me', headers: rep.auth }),
    );
    expect((await Promise.all(burst)).map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    await relay.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: rep.auth });
    const after = await Promise.all(
      Array.from({ length: 20 }, () => relay.app.inject({ method: 'GET', url: '/v1/me', headers: rep.auth })),
    );
    expect(after.map((r) => r.statusCode)).toEqual(Array(20).fill(401));
  });
});
