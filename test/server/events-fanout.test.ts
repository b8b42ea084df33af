import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { openPostgres } from '../../server/db/postgres.ts';
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

postgresSkipNote('event fan-out across relay processes');

describe.skipIf(POSTGRES_URL === null)('live events across relay processes on one PostgreSQL', () => {
  let dbA: Database;
  let dbB: Database;
  let relayA: TestRelay;
  let relayB: TestRelay;
  let org: TestOrg;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const fresh = await freshPostgres();
    dbA = fresh.db;
    drop = fresh.drop;
    // A second pool and LISTEN connection: what another relay process would have.
    dbB = await openPostgres({ url: fresh.url });
    relayA = await testRelay(dbA);
    relayB = await testRelay(dbB);
    org = await seedOrg(dbA);
    await optIn(relayA.app, org, CUSTOMER);
    await relayB.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await relayA.close();
    await relayB.close();
    await dbB.close();
    await drop();
  });

  it('delivers a message accepted by one process to an SSE client of another', async () => {
    const port = (relayB.app.server.address() as AddressInfo).port;
    const controller = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      headers: org.auth,
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const sent = await relayA.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: CUSTOMER, body: 'Across processes' },
    });
    expect(sent.statusCode).toBe(202);
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + 5000;
    while (!text.includes('Across processes') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    expect(text).toContain('event: message.created');
    expect(text).toContain(sent.json().message.id);
  });

  it('shows another org none of these events', async () => {
    const other = await seedOrg(dbA, { name: 'Other', sender: '+13125550100' });
    const port = (relayB.app.server.address() as AddressInfo).port;
    const controller = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      headers: other.auth,
      signal: controller.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await relayA.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: CUSTOMER, body: 'Private to Acme' },
    });
    const decoder = new TextDecoder();
    let text = '';
    const timer = setTimeout(() => controller.abort(), 1500);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
    } catch {
      // Aborted after the observation window.
    }
    clearTimeout(timer);
    expect(text).not.toContain('Private to Acme');
  });
});
