import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { freshPostgres, POSTGRES_URL, postgresSkipNote } from '../helpers/db.ts';
import {
  CUSTOMER,
  eventually,
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';
import { openTextStream } from '../helpers/sse-text.ts';

/**
 * Issue #20: the event hub waited for every older transaction to end before it read an event, so
 * one open transaction (a slow webhook, a purge) held back every org's live events. It now reads a
 * transaction's events as soon as it commits; the older transaction's own events come when it
 * commits, once, and a client resuming from an id it got in between gets exactly what it missed.
 * PostgreSQL only: PGlite runs one transaction at a time.
 */

postgresSkipNote('live events while an older transaction is open');

/** The id of the frame that carries `marker`. */
function idOf(text: string, marker: string): string {
  const frame = text.split('\n\n').find((f) => f.includes(marker));
  const id = frame === undefined ? undefined : /^id: (.*)$/m.exec(frame)?.[1];
  if (id === undefined) throw new Error(`no frame with ${marker}`);
  return id;
}

const count = (text: string, marker: string) => text.split(marker).length - 1;

describe.skipIf(POSTGRES_URL === null)('live events while an older transaction is open', () => {
  let db: Database;
  let url: string;
  let drop: () => Promise<void>;
  let relay: TestRelay;
  let org: TestOrg;
  let events: string;

  beforeAll(async () => {
    const fresh = await freshPostgres();
    ({ db, url, drop } = fresh);
    relay = await testRelay(db);
    org = await seedOrg(db);
    await optIn(relay.app, org, CUSTOMER);
    events = `${await relay.app.listen({ port: 0, host: '127.0.0.1' })}/v1/events`;
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  /** Another connection's transaction that writes an event of its own (`note`) and stays open. */
  async function olderTransaction(note: string): Promise<pg.Client> {
    const older = new pg.Client({ connectionString: url });
    await older.connect();
    await older.query('BEGIN');
    await older.query(
      `INSERT INTO events (org_id, type, conversation_id, payload) VALUES ($1, 'inbox.updated', NULL, $2)`,
      [org.orgId, JSON.stringify({ conversationId: null, assignee: null, unreadFor: [], note })],
    );
    return older;
  }

  async function send(body: string): Promise<void> {
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: CUSTOMER, body },
    });
    expect(response.statusCode, response.body).toBe(202);
  }

  it('sends a text accepted now at once, the open transaction’s event when it commits, each once, and resumes exactly', async () => {
    const first = await openTextStream(events, org.auth);
    // Another transaction writes an event of its own, and stays open.
    const older = await olderTransaction('older-transaction');
    try {
      await send('Sent while another transaction is open');
      // Before, this waited for the older transaction to end.
      await eventually(
        async () => first.stream.text.includes('Sent while another transaction is open'),
        5000,
      );
      const leftAt = idOf(first.stream.text, 'Sent while another transaction is open');
      expect(first.stream.text).not.toContain('older-transaction');

      await older.query('COMMIT');
      await eventually(async () => first.stream.text.includes('older-transaction'));
      await send('After both');
      await eventually(async () => first.stream.text.includes('After both'));
      for (const marker of ['Sent while another transaction is open', 'older-transaction', 'After both'])
        expect(count(first.stream.text, marker), marker).toBe(1);

      // A client that left right after the first text comes back with the id it had then.
      const resumed = await openTextStream(events, { ...org.auth, 'last-event-id': leftAt });
      try {
        await eventually(async () => resumed.stream.text.includes('After both'));
        expect(count(resumed.stream.text, 'older-transaction')).toBe(1);
        expect(resumed.stream.text).not.toContain('Sent while another transaction is open');
        expect(count(resumed.stream.text, 'After both')).toBe(1);
      } finally {
        await resumed.close();
      }
    } finally {
      await older.end();
      await first.close();
    }
  });

  it('never loses the open transaction’s event for a client that resumes before it commits', async () => {
    const first = await openTextStream(events, org.auth);
    // Another transaction writes an event of its own, and stays open.
    const older = await olderTransaction('late-commit');
    try {
      await send('Before the late commit');
      await eventually(async () => first.stream.text.includes('Before the late commit'), 5000);
      const leftAt = idOf(first.stream.text, 'Before the late commit');
      await first.close();
      // The client is back before the older transaction commits; then it commits.
      const resumed = await openTextStream(events, { ...org.auth, 'last-event-id': leftAt });
      try {
        await older.query('COMMIT');
        await eventually(async () => resumed.stream.text.includes('late-commit'));
        expect(resumed.stream.text).not.toContain('Before the late commit');
        await send('After the late commit');
        await eventually(async () => resumed.stream.text.includes('After the late commit'));
        expect(count(resumed.stream.text, 'late-commit')).toBe(1);
      } finally {
        await resumed.close();
      }
    } finally {
      await older.end();
    }
  });
});
