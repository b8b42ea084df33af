import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../../server/db/database.ts';
import { applyStatusCallback, recordAcceptance } from '../../server/inbound/status-callbacks.ts';
import { freshPostgres, POSTGRES_URL, postgresSkipNote } from '../helpers/db.ts';
import {
  CUSTOMER,
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

// A delivery report that reaches the relay while the outbox worker is recording the provider's id
// for the same text. On PGlite every transaction runs alone, so only PostgreSQL can interleave them.
postgresSkipNote('status callback race');

/** The same database, but a transaction stops before it keeps an unmatched callback until `open`. */
function gatedAtKeep(db: Database, gate: Promise<void>, reached: () => void): Database {
  const gated = (tx: Queryable): Queryable => ({
    async query(sql, params) {
      if (sql.includes('INSERT INTO unmatched_status_callbacks')) {
        reached();
        await gate;
      }
      return tx.query(sql, params);
    },
  });
  return Object.assign(Object.create(db) as Database, {
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => db.transaction((tx) => fn(gated(tx))),
  });
}

describe.skipIf(POSTGRES_URL === null)('a report racing the record of its provider id (PostgreSQL)', () => {
  let relay: TestRelay;
  let org: TestOrg;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await freshPostgres();
    drop = database.drop;
    relay = await testRelay(database.db, { delays: { sentMs: 60_000, deliveredMs: 60_000 } });
    org = await seedOrg(relay.db);
    await optIn(relay.app, org, CUSTOMER);
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  it('is applied whichever transaction commits first: nothing is lost', async () => {
    const sent = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: CUSTOMER, body: 'Your technician is on the way.' },
    });
    expect(sent.statusCode, sent.body).toBe(202);
    const messageId: string = sent.json().message.id;
    const providerMessageId = 'race-provider-id';

    // The report finds no message with that id yet and stops just before keeping itself...
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let reachedKeep = (): void => undefined;
    const atKeep = new Promise<void>((resolve) => {
      reachedKeep = resolve;
    });
    const report = applyStatusCallback(gatedAtKeep(relay.db, gate, reachedKeep), {
      provider: 'sandbox',
      providerMessageId,
      status: 'delivered',
      errorCode: '000',
      sequence: 2,
    });
    await atKeep;
    // ...while the worker records the id and looks for kept reports in its own transaction.
    const record = relay.db.transaction((tx) =>
      recordAcceptance(tx, { provider: 'sandbox', messageId, providerMessageId }),
    );
    const recordFirst = await Promise.race([
      record.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 300)),
    ]);
    open();
    await Promise.all([report, record]);

    const [row] = await relay.db.query<{ status: string }>('SELECT status FROM messages WHERE id = $1', [
      messageId,
    ]);
    expect(row?.status).toBe('delivered');
    // The worker waited for the report's commit instead of missing it.
    expect(recordFirst).toBe(false);
  });
});
