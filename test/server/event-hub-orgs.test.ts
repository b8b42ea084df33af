import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, TX_DATABASE } from '../../server/db/database.ts';
import { EventHub, type RelayEvent } from '../../server/live/events.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { eventually, seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';

/**
 * The hub reads every org's events but opens (decrypts) only those of orgs someone in this
 * process follows: another org's texts are not decrypted for nobody. A stream that subscribes
 * while the hub is opening texts still gets its org's events of that read.
 */

postgresSkipNote('the event hub opens only followed orgs’ events');

/** A message event whose text cannot open (data key 999 does not exist), so opening it is logged. */
const unopenable = (note: string) => ({
  message: { id: randomUUID(), body: `sealed ${note}`, bodyKey: 999, direction: 'inbound' },
  note,
});

describe.each(ENGINES)('event hub on %s', (engine) => {
  let relay: TestRelay;
  let drop: () => Promise<void>;
  let followed: TestOrg;
  let other: TestOrg;
  /** An org with no events before the second test's own. */
  let third: TestOrg;
  /** While set, the hub's data-key reads wait for it (the hub is then opening a text). */
  let hold: { entered: () => void; released: Promise<void> } | null = null;
  let hubDb: Database;

  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    drop = fresh.drop;
    relay = await testRelay(fresh.db);
    followed = await seedOrg(relay.db, { name: 'Followed Org' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    third = await seedOrg(relay.db, { name: 'Third Org', sender: '+12025550102' });
    const db = relay.db;
    // The relay's database, with a gate on data-key reads; the vault still finds its keys on it.
    hubDb = new Proxy(db, {
      get(target, property) {
        if (property === TX_DATABASE) return db;
        if (property === 'query')
          return async (sql: string, params?: unknown[]) => {
            const gate = hold;
            if (gate !== null && sql.includes('org_data_keys')) {
              gate.entered();
              await gate.released;
            }
            return db.query(sql, params);
          };
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  async function append(rows: { org: TestOrg; payload: unknown }[]): Promise<void> {
    await relay.db.transaction(async (tx) => {
      for (const { org, payload } of rows)
        await tx.query(
          `INSERT INTO events (org_id, type, conversation_id, payload) VALUES ($1, 'inbox.updated', NULL, $2)`,
          [org.orgId, JSON.stringify(payload)],
        );
      await tx.query(`SELECT pg_notify('relay_events', '')`);
    });
  }

  async function startHub(): Promise<{ hub: EventHub; logs: string[] }> {
    const logs: string[] = [];
    const hub = new EventHub(hubDb, { pollMs: 50, log: (message) => logs.push(message) });
    await hub.start();
    return { hub, logs };
  }

  const notesOf = (events: RelayEvent[]) => events.map((e) => (e.payload as { note?: string }).note);
  // A hub reads from the oldest transaction running anywhere on the server when it starts, so
  // a later test's hub may read an earlier test's events again: each test has its own notes.

  it("passes over another org's events without opening their texts", async () => {
    const { hub, logs } = await startHub();
    const got: RelayEvent[] = [];
    hub.subscribe({ orgId: followed.orgId, deliver: (event) => got.push(event) });
    try {
      await append([{ org: other, payload: unopenable('theirs 1') }]);
      await append([{ org: followed, payload: { note: 'ours 1' } }]);
      await eventually(async () => got.length > 0);
      expect(notesOf(got)).toEqual(['ours 1']);
      // Opening the other org's text would have failed and been logged.
      expect(logs).toEqual([]);
    } finally {
      await hub.stop();
    }
  });

  it('still opens what a stream that subscribed meanwhile follows', async () => {
    const { hub, logs } = await startHub();
    const ours: RelayEvent[] = [];
    const late: RelayEvent[] = [];
    hub.subscribe({ orgId: followed.orgId, deliver: (event) => ours.push(event) });
    let entered = () => {};
    const opening = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release = () => {};
    hold = {
      entered,
      released: new Promise<void>((resolve) => {
        release = resolve;
      }),
    };
    try {
      // One transaction: both events come in the same read. The followed org's text is being
      // opened (held at its data key) when the third org's first stream subscribes.
      await append([
        { org: followed, payload: unopenable('ours 2') },
        { org: third, payload: { note: 'theirs 2' } },
      ]);
      await opening;
      hub.subscribe({ orgId: third.orgId, deliver: (event) => late.push(event) });
      hold = null;
      release();
      await eventually(async () => notesOf(ours).includes('ours 2') && late.length > 0);
      expect(notesOf(late)).toEqual(['theirs 2']);
      expect(notesOf(ours).filter((note) => note === 'ours 2')).toHaveLength(1);
      expect(logs).toEqual([expect.stringContaining('data key 999')]);
    } finally {
      hold = null;
      release();
      await hub.stop();
    }
  });
});
