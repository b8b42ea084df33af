import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyProvider } from '../../server/crypto/key-provider.ts';
import { resealDue, rotateDataKeys } from '../../server/crypto/reseal.ts';
import { rewrapUnderMasterKey, underOlderKeys } from '../../server/crypto/rewrap.ts';
import { acceptPreviousKeys, open, seal, sealedKeyId, secretsKey } from '../../server/crypto/secrets.ts';
import { attachVault, KeyVault, openVault, VaultError } from '../../server/crypto/vault.ts';
import { openPostgres } from '../../server/db/postgres.ts';
import { openBody, openEventPayload, sealBody } from '../../server/stores/message-bodies.ts';
import {
  ENGINES,
  freshDatabase,
  freshPglite,
  freshPostgres,
  POSTGRES_URL,
  postgresSkipNote,
} from '../helpers/db.ts';
import {
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
  testUser,
} from '../helpers/relay.ts';
import { databaseDump } from '../helpers/stored-texts.ts';

// Encryption at rest (issue #18, item 1): message texts are sealed under per-org data keys
// wrapped by the master key; a dump of the database holds none of them; rotating the keys
// re-seals every text in the background and loses nothing.
postgresSkipNote('encryption at rest');

describe.each(ENGINES)('encryption at rest on %s', (engine) => {
  let relay: TestRelay;
  let drop: () => Promise<void>;
  let org: TestOrg;
  let next = 0;

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db);
    org = await seedOrg(relay.db, { name: 'Acme Dental' });
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  async function customer(): Promise<string> {
    next += 1;
    const phone = `+120255571${String(next).padStart(2, '0')}`;
    await optIn(relay.app, org, phone);
    return phone;
  }
  const send = (to: string, body: string) =>
    relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...org.auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to, body },
    });
  async function thread(conversationId: string): Promise<string[]> {
    const answer = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations/${conversationId}/messages`,
      headers: org.auth,
    });
    expect(answer.statusCode, answer.body).toBe(200);
    return (answer.json().messages as { body: string }[]).map((m) => m.body);
  }
  const dump = () => databaseDump(relay.db);

  it('a dump holds none of the texts sent or received, while the API and live events show them', async () => {
    const phone = await customer();
    const sent = await send(phone, 'Your Zanzibar itinerary 7319 is ready');
    expect(sent.statusCode, sent.body).toBe(202);
    await relay.sandbox.textFromHandset({
      handset: phone,
      service: org.sender,
      text: 'Quokka picnic on Tuesday works',
    });
    await relay.sandbox.textFromHandset({
      handset: phone,
      service: '+14155550100',
      text: 'Platypus to nobody',
    });
    const leaving = await customer();
    await relay.sandbox.textFromHandset({
      handset: leaving,
      service: org.sender,
      text: 'Stop texting me about the Wombat clinic',
    });
    await relay.worker.drain();

    const everything = await dump();
    expect(everything.length).toBeGreaterThan(1000);
    for (const secret of ['Zanzibar', 'Quokka', 'Platypus', 'Wombat'])
      expect(everything).not.toContain(secret);
    // The customer's words are the opt-out's evidence in the ledger, read back as written.
    const ledger = await relay.app.inject({
      method: 'GET',
      url: `/v1/consent/${encodeURIComponent(leaving)}`,
      headers: org.auth,
    });
    expect(ledger.statusCode, ledger.body).toBe(200);
    expect(ledger.json().events[0]).toMatchObject({
      kind: 'opt_out',
      evidence: 'Stop texting me about the Wombat clinic',
    });

    const conversationId = sent.json().message.conversationId as string;
    expect(await thread(conversationId)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Your Zanzibar itinerary 7319 is ready'),
        'Quokka picnic on Tuesday works',
      ]),
    );
    const events = await relay.db.query<{ payload: { message?: { body?: string } } }>(
      `SELECT payload FROM events WHERE org_id = $1 AND type = 'message.created'`,
      [org.orgId],
    );
    expect(events.length).toBeGreaterThanOrEqual(2);
  });

  it('a sealed text copied onto another message does not open there', async () => {
    const phone = await customer();
    const a = (await send(phone, 'First text')).json().message.id as string;
    const b = (await send(phone, 'Second text')).json().message.id as string;
    const [row] = await relay.db.query<{ body: string; body_key: number }>(
      'SELECT body, body_key FROM messages WHERE id = $1',
      [a],
    );
    expect(row?.body_key).toBeGreaterThan(0);
    expect(await openBody(relay.db, org.orgId, a, row?.body ?? '', row?.body_key)).toContain('First text');
    await expect(openBody(relay.db, org.orgId, b, row?.body ?? '', row?.body_key)).rejects.toThrow(
      VaultError,
    );
    const other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550177' });
    await expect(openBody(relay.db, other.orgId, a, row?.body ?? '', row?.body_key)).rejects.toThrow(
      VaultError,
    );
  });

  it('rotation under load: every text still reads as sent, all under the new key, the old key destroyed', async () => {
    const phones = [await customer(), await customer(), await customer()];
    const sentTexts = new Map<string, string>();
    let sending = true;
    let n = 0;
    const load = (async () => {
      while (sending) {
        n += 1;
        const body = `Load text ${n}`;
        const answer = await send(phones[n % phones.length] as string, body);
        expect(answer.statusCode, answer.body).toBe(202);
        sentTexts.set(answer.json().message.id as string, body);
      }
    })();
    while (sentTexts.size < 20) await new Promise((resolve) => setTimeout(resolve, 10));
    const [before] = await relay.db.query<{ key_no: number }>(
      `SELECT key_no FROM org_data_keys WHERE org_id = $1 AND state = 'active'`,
      [org.orgId],
    );
    const [rotated] = await rotateDataKeys(relay.db, [org.orgId]);
    expect(rotated?.keyNo).toBe((before?.key_no ?? 0) + 1);
    // In this process the old key is let go of at once; wait out the send already past that point
    // (the load sends one at a time: once send number `inFlight` is answered, the rest seal anew).
    const inFlight = n;
    while (sentTexts.size < inFlight) await new Promise((resolve) => setTimeout(resolve, 10));
    const progress: number[] = [];
    const reports = await resealDue(relay.db, { settleMs: 0, progress: (r) => progress.push(r.messages) });
    sending = false;
    await load;

    const mine = reports.find((r) => r.orgId === org.orgId);
    expect(mine?.destroyed).toEqual([before?.key_no]);
    expect(mine?.messages).toBeGreaterThanOrEqual(20);
    const keys = await relay.db.query<{ key_no: number; state: string; wrapped: string | null }>(
      'SELECT key_no, state, wrapped FROM org_data_keys WHERE org_id = $1 ORDER BY key_no',
      [org.orgId],
    );
    expect(keys.at(-1)).toMatchObject({ key_no: rotated?.keyNo, state: 'active' });
    expect(
      keys.filter((k) => k.state !== 'active').every((k) => k.state === 'destroyed' && k.wrapped === null),
    ).toBe(true);
    const stale = await relay.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE org_id = $1 AND body <> '' AND body_key IS DISTINCT FROM $2`,
      [org.orgId, rotated?.keyNo],
    );
    expect(stale[0]?.n).toBe(0);
    for (const [id, body] of sentTexts) {
      const [row] = await relay.db.query<{ body: string; body_key: number }>(
        'SELECT body, body_key FROM messages WHERE id = $1',
        [id],
      );
      expect(await openBody(relay.db, org.orgId, id, row?.body ?? '', row?.body_key)).toContain(body);
    }
    const staleEvents = await relay.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events
        WHERE org_id = $1 AND (payload #>> '{message,bodyKey}')::int IS DISTINCT FROM $2
          AND payload #>> '{message,body}' <> ''`,
      [org.orgId, rotated?.keyNo],
    );
    expect(staleEvents[0]?.n).toBe(0);
    const staleEvidence = await relay.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM consent_events WHERE org_id = $1 AND evidence_key IS DISTINCT FROM $2',
      [org.orgId, rotated?.keyNo],
    );
    expect(staleEvidence[0]?.n).toBe(0);
    expect(mine?.evidence).toBeGreaterThan(0);
  });

  it('texts stored in clear before sealing are sealed by the first pass, and still read the same', async () => {
    const legacy = await seedOrg(relay.db, { name: 'Old Org', sender: '+12025550188' });
    const [conv] = await relay.db.query<{ id: string }>(
      `INSERT INTO conversations (id, org_id, sender_number_id, contact_phone, last_message_at)
       SELECT gen_random_uuid(), $1, id, '+12025557999', now() FROM sender_numbers WHERE org_id = $1
       RETURNING id::text AS id`,
      [legacy.orgId],
    );
    const [legacyMessage] = await relay.db.query<{ id: string }>(
      `INSERT INTO messages (id, org_id, conversation_id, direction, from_e164, to_e164, body, status, segments, encoding)
       VALUES (gen_random_uuid(), $1, $2, 'outbound', $3, '+12025557999', 'Written in clear long ago', 'sent', 1, 'GSM-7')
       RETURNING id::text AS id`,
      [legacy.orgId, conv?.id, legacy.sender],
    );
    // Its live event from before sealing: the text in clear, no key.
    await relay.db.query(
      `INSERT INTO events (org_id, type, conversation_id, payload)
       VALUES ($1, 'message.created', $2, jsonb_build_object('message', jsonb_build_object('id', $3::text, 'body', 'Written in clear long ago')))`,
      [legacy.orgId, conv?.id, legacyMessage?.id],
    );
    await resealDue(relay.db, { settleMs: 0 });
    const [row] = await relay.db.query<{ body: string; body_key: number | null }>(
      'SELECT body, body_key FROM messages WHERE org_id = $1',
      [legacy.orgId],
    );
    expect(row?.body_key).toBe(1);
    expect(row?.body).not.toContain('in clear');
    const [event] = await relay.db.query<{ payload: unknown }>(
      'SELECT payload FROM events WHERE org_id = $1',
      [legacy.orgId],
    );
    expect(JSON.stringify(event?.payload)).not.toContain('in clear');
    expect(await openEventPayload(relay.db, legacy.orgId, event?.payload)).toMatchObject({
      message: { body: 'Written in clear long ago' },
    });
    const answer = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations/${conv?.id}/messages`,
      headers: legacy.auth,
    });
    expect(answer.json().messages.map((m: { body: string }) => m.body)).toEqual([
      'Written in clear long ago',
    ]);
  });
});

describe('a new master key', () => {
  it('opens what the old one sealed through SECRETS_KEY_PREVIOUS; keys rotate re-seals all of it under the new one', async () => {
    const db = await freshPglite();
    const [oldKey, newKey] = [secretsKey(randomBytes(32)), secretsKey(randomBytes(32))];
    const oldVault = attachVault(db, new KeyVault(new LocalKeyProvider(oldKey)));
    // The installation's phone key, wrapped by the old master key like everything else here.
    await db.query(`DELETE FROM instance_secrets WHERE name = 'phone_key'`);
    await oldVault.loadPhoneKey(db);
    const org = await seedOrg(db, { name: 'Rekeyed' });
    const userId = await testUser(db, {
      orgId: org.orgId,
      email: 'tia@rekeyed.example',
      role: 'rep',
      now: new Date(),
    });
    const messageId = randomUUID();
    const text = await sealBody(db, org.orgId, messageId, 'Sealed under the old master key');
    await db.query('UPDATE users SET totp_secret = $2 WHERE id = $1', [
      userId,
      seal(oldKey, 'JBSWY3DPEHPK3PXP', `totp:${userId}`),
    ]);

    // The operator's restart: SECRETS_KEY is the new key, the old one only in SECRETS_KEY_PREVIOUS.
    acceptPreviousKeys([oldKey.bytes]);
    await attachVault(db, new KeyVault(new LocalKeyProvider(newKey))).loadPhoneKey(db);
    expect(await openBody(db, org.orgId, messageId, text.body, text.bodyKey)).toBe(
      'Sealed under the old master key',
    );
    const pending = await underOlderKeys(db, newKey);
    expect(pending.filter((c) => c.count > 0)).toEqual([
      { what: 'organisation data keys', count: 1 },
      { what: 'the phone key', count: 1 },
      { what: 'second-factor secrets', count: 1 },
    ]);

    const rewrapped = await rewrapUnderMasterKey(db, newKey);
    expect(rewrapped.filter((c) => c.count > 0)).toEqual(pending.filter((c) => c.count > 0));
    expect((await underOlderKeys(db, newKey)).every((c) => c.count === 0)).toBe(true);
    const [wrapped] = await db.query<{ wrapped: string }>(
      'SELECT wrapped FROM org_data_keys WHERE org_id = $1',
      [org.orgId],
    );
    const [totp] = await db.query<{ totp_secret: string }>('SELECT totp_secret FROM users WHERE id = $1', [
      userId,
    ]);
    expect([sealedKeyId(wrapped?.wrapped ?? ''), sealedKeyId(totp?.totp_secret ?? '')]).toEqual([
      newKey.id,
      newKey.id,
    ]);
    // A vault that never knew the old key opens the text, and the secret opens under the new key alone.
    attachVault(db, new KeyVault(new LocalKeyProvider(newKey)));
    expect(await openBody(db, org.orgId, messageId, text.body, text.bodyKey)).toBe(
      'Sealed under the old master key',
    );
    expect(open(newKey, totp?.totp_secret ?? '', `totp:${userId}`)).toBe('JBSWY3DPEHPK3PXP');

    // Something sealed under a key that is neither is named, and nothing is half-done.
    const stranger = secretsKey(randomBytes(32));
    await db.query('UPDATE users SET totp_secret = $2 WHERE id = $1', [
      userId,
      seal(stranger, 'JBSWY3DPEHPK3PXP', `totp:${userId}`),
    ]);
    await expect(rewrapUnderMasterKey(db, newKey)).rejects.toThrow(/sealed with another key/);
    await db.close();
  });
});

// Two handles on one database need a server: PGlite is one process's alone.
postgresSkipNote('a database that began in the sandbox');

describe.skipIf(POSTGRES_URL === null)('a database that began in the sandbox', () => {
  it('still opens what the sandbox key sealed once SECRETS_KEY is set, and keys rotate re-seals it', async () => {
    const fresh = await freshPostgres();
    const other = await openPostgres({ url: fresh.url });
    try {
      const org = await seedOrg(fresh.db, { name: 'Started in the sandbox' });
      const messageId = randomUUID();
      const text = await sealBody(fresh.db, org.orgId, messageId, 'Written in the sandbox');
      // The same database, opened by a relay configured with a real SECRETS_KEY.
      const configured = randomBytes(32);
      const warnings: string[] = [];
      await openVault(other, { configured, sandbox: false, warn: (m) => warnings.push(m) });
      expect(warnings.join(' ')).toMatch(/began in the sandbox.*keys rotate/);
      expect(await openBody(other, org.orgId, messageId, text.body, text.bodyKey)).toBe(
        'Written in the sandbox',
      );
      const key = secretsKey(configured);
      expect((await underOlderKeys(other, key)).find((c) => c.what === 'organisation data keys')?.count).toBe(
        1,
      );
      await rewrapUnderMasterKey(other, key);
      expect((await underOlderKeys(other, key)).every((c) => c.count === 0)).toBe(true);
    } finally {
      await other.close();
      await fresh.drop();
    }
  });
});
