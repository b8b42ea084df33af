// @vitest-environment node
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../extension/lib/relay-types.ts';
import { DRAFT_MAX_IDLE_MS, loadDraft, pruneDrafts, saveDraft } from '../../extension/lib/store/drafts.ts';
import { enqueue, listOutbox } from '../../extension/lib/store/outbox.ts';
import { contactKeyOf, PanelDb, storeScope } from '../../extension/lib/store/panel-db.ts';
import {
  clearAll,
  clearScope,
  mergeIntoThread,
  pruneThreads,
  readThread,
  saveThread,
  THREAD_MAX_IDLE_MS,
  THREAD_MESSAGE_LIMIT,
  type ThreadSnapshot,
} from '../../extension/lib/store/thread-cache.ts';
import { contactLookupFixture } from './fixtures.ts';

const REP = '+15550001111';
const CONTACT = '+15552223333';
const ALICE = 'https://relay.example|alice@example.com';
const BOB = 'https://relay.example|bob@example.com';
const KEY = contactKeyOf({ crm: 'hubspot', objectType: 'contact', id: '51' });
const T0 = Date.parse('2025-03-01T12:00:00Z');

const opened: PanelDb[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

/** A fresh database in its own in-memory IndexedDB, or a second connection to `factory`'s. */
function openDb(factory: IDBFactory = new IDBFactory()): PanelDb {
  const db = new PanelDb({ indexedDB: factory, IDBKeyRange });
  opened.push(db);
  return db;
}

function iso(minute: number): string {
  return new Date(T0 + minute * 60_000).toISOString();
}

function msg(id: string, minute: number, patch: Partial<Message> = {}): Message {
  return {
    id,
    conversationId: 'conv-1',
    direction: 'outbound',
    from: REP,
    to: CONTACT,
    body: `text ${id}`,
    status: 'queued',
    segments: 1,
    encoding: 'GSM-7',
    errorCode: null,
    errorMessage: null,
    sentBy: null,
    scheduledFor: null,
    redactions: [],
    createdAt: iso(minute),
    updatedAt: iso(minute),
    ...patch,
  };
}

function snapshot(patch: Partial<ThreadSnapshot> = {}): ThreadSnapshot {
  return {
    scope: ALICE,
    contactKey: KEY,
    lookup: contactLookupFixture({ name: 'Dana Ruiz', phone: CONTACT, timeZone: 'America/Chicago' }),
    numbers: [{ id: 'n1', e164: REP, label: 'Main' }],
    conversations: [
      { id: 'conv-1', senderNumber: REP, contactPhone: CONTACT, contact: null, lastMessageAt: iso(1) },
    ],
    sender: REP,
    messages: [msg('m1', 0), msg('m2', 1)],
    nextCursor: 'cursor-1',
    pageUrl: 'https://app.hubspot.com/contacts/8675309/record/0-1/51',
    ...patch,
  };
}

describe('panel database', () => {
  it('opens its schema and round-trips a cached thread, a draft and an outbox item', async () => {
    const db = openDb();
    await saveThread(db, snapshot(), T0);
    await saveDraft(db, ALICE, KEY, 'See you at 3?', T0);
    await enqueue(
      db,
      { scope: ALICE, contactKey: KEY, input: { from: REP, to: CONTACT, body: 'hi' }, idempotencyKey: 'k1' },
      T0,
    );

    expect(db.tables.map((t) => t.name).sort()).toEqual(['drafts', 'outbox', 'threads']);
    expect(await readThread(db, ALICE, KEY, T0)).toEqual({ ...snapshot(), savedAt: T0, openedAt: T0 });
    expect(await loadDraft(db, ALICE, KEY)).toBe('See you at 3?');
    expect((await listOutbox(db, ALICE)).map((i) => i.input.body)).toEqual(['hi']);
  });

  it('keeps what it stored for the next connection, as for the next page load', async () => {
    const factory = new IDBFactory();
    const first = openDb(factory);
    await saveThread(first, snapshot(), T0);
    first.close();

    const second = openDb(factory);
    expect((await readThread(second, ALICE, KEY))?.lookup.contact.name).toBe('Dana Ruiz');
  });

  it('derives a contact key and a per-identity scope that never contains the API key', async () => {
    expect(KEY).toBe('hubspot/contact/51');
    expect(await storeScope('https://relay.example', { email: ' Alice@Example.com ' })).toBe(ALICE);

    const keyScope = await storeScope('https://relay.example', { apiKey: 'sk_live_secret' });
    expect(keyScope).toMatch(/^https:\/\/relay\.example\|key:[0-9a-f]{16}$/);
    expect(keyScope).not.toContain('secret');
    expect(await storeScope('https://relay.example', { apiKey: 'sk_live_other' })).not.toBe(keyScope);
  });
});

describe('scope isolation', () => {
  it('shows another user on the same browser none of the first user’s threads, drafts or outbox', async () => {
    const db = openDb();
    await saveThread(db, snapshot(), T0);
    await saveDraft(db, ALICE, KEY, 'private note', T0);
    await enqueue(db, {
      scope: ALICE,
      contactKey: KEY,
      input: { from: REP, to: CONTACT, body: 'x' },
      idempotencyKey: 'k1',
    });

    expect(await readThread(db, BOB, KEY)).toBeNull();
    expect(await loadDraft(db, BOB, KEY)).toBe('');
    expect(await listOutbox(db, BOB)).toEqual([]);
    expect(await listOutbox(db, BOB, KEY)).toEqual([]);
  });

  it('wipes one user’s cached threads on sign-out, keeping their unsent work and the other user’s cache', async () => {
    const db = openDb();
    await saveThread(db, snapshot(), T0);
    await saveThread(db, snapshot({ scope: BOB }), T0);
    await saveDraft(db, ALICE, KEY, 'half-written', T0);
    await enqueue(db, {
      scope: ALICE,
      contactKey: KEY,
      input: { from: REP, to: CONTACT, body: 'x' },
      idempotencyKey: 'k1',
    });

    expect(await clearScope(db, ALICE)).toBe(1);

    expect(await readThread(db, ALICE, KEY)).toBeNull();
    expect(await readThread(db, BOB, KEY)).not.toBeNull();
    expect(await loadDraft(db, ALICE, KEY)).toBe('half-written');
    expect(await listOutbox(db, ALICE)).toHaveLength(1);

    await clearAll(db);
    expect(await readThread(db, BOB, KEY)).toBeNull();
  });
});

describe('thread cache', () => {
  it('keeps the newest status when a fetch started before a live delivery event is saved after it', async () => {
    const db = openDb();
    await saveThread(db, snapshot(), T0);
    const delivered = msg('m2', 1, { status: 'delivered', updatedAt: iso(2) });
    await mergeIntoThread(db, ALICE, KEY, [delivered]);

    // The fetch that started before the event still has m2 as queued.
    const saved = await saveThread(db, snapshot(), T0 + 1);

    expect(saved.messages.map((m) => [m.id, m.status])).toEqual([
      ['m1', 'queued'],
      ['m2', 'delivered'],
    ]);
    expect((await readThread(db, ALICE, KEY))?.messages[1]?.status).toBe('delivered');
  });

  it('does not roll back a status when an older live event arrives late', async () => {
    const db = openDb();
    await saveThread(db, snapshot({ messages: [msg('m1', 0, { status: 'delivered', updatedAt: iso(3) })] }));
    await mergeIntoThread(db, ALICE, KEY, [msg('m1', 0, { status: 'sent', updatedAt: iso(2) })]);

    expect((await readThread(db, ALICE, KEY))?.messages.map((m) => m.status)).toEqual(['delivered']);
  });

  it('adds live messages of this thread in order and ignores other contacts and sender numbers', async () => {
    const db = openDb();
    await saveThread(db, snapshot(), T0);
    const inbound = msg('m3', 2, { direction: 'inbound', from: CONTACT, to: REP });
    const otherContact = msg('x1', 2, { to: '+15559990000', conversationId: 'conv-9' });
    const otherSender = msg('x2', 2, { from: '+15558887777', conversationId: 'conv-8' });

    const merged = await mergeIntoThread(db, ALICE, KEY, [otherContact, inbound, otherSender]);

    expect(merged?.messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
    expect(merged?.savedAt).toBe(T0);
    expect(await mergeIntoThread(db, ALICE, 'hubspot/contact/999', [inbound])).toBeNull();
  });

  it('matches live messages by conversation when the rep only sees a masked phone', async () => {
    const db = openDb();
    const base = snapshot();
    const masked = { ...base.lookup, contact: { ...base.lookup.contact, phone: '+1•••••3333' } };
    await saveThread(db, { ...base, lookup: masked }, T0);
    const ours = msg('m3', 2, { to: '+1•••••3333' });
    // Another contact whose number ends the same way, in another conversation.
    const lookalike = msg('x1', 2, { to: '+1•••••3333', conversationId: 'conv-9' });

    const merged = await mergeIntoThread(db, ALICE, KEY, [ours, lookalike]);

    expect(merged?.messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
  });

  it('takes the first message of a conversation the cache does not know yet by sender and phone', async () => {
    const db = openDb();
    await saveThread(db, snapshot({ conversations: [], messages: [] }), T0);

    const merged = await mergeIntoThread(db, ALICE, KEY, [msg('first', 0, { conversationId: 'conv-new' })]);

    expect(merged?.messages.map((m) => m.id)).toEqual(['first']);
  });

  it('replaces the messages when the rep switched to another sender number', async () => {
    const db = openDb();
    await saveThread(db, snapshot(), T0);
    const OTHER = '+15558887777';
    const fromOther = msg('o1', 5, { from: OTHER, conversationId: 'conv-2' });

    const saved = await saveThread(db, snapshot({ sender: OTHER, messages: [fromOther], nextCursor: null }));

    expect(saved.messages.map((m) => m.id)).toEqual(['o1']);
  });

  it('drops cached messages older than a fresh page so the thread never shows a gap', async () => {
    const db = openDb();
    await saveThread(db, snapshot({ messages: [msg('old1', 0), msg('old2', 1)] }), T0);

    const saved = await saveThread(db, snapshot({ messages: [msg('new1', 500), msg('new2', 501)] }));

    expect(saved.messages.map((m) => m.id)).toEqual(['new1', 'new2']);
    expect(saved.nextCursor).toBe('cursor-1');
  });

  it(`stores only the newest ${THREAD_MESSAGE_LIMIT} messages, before and after live events`, async () => {
    const db = openDb();
    const many = Array.from({ length: 130 }, (_, i) => msg(`m${String(i).padStart(3, '0')}`, i));

    const saved = await saveThread(db, snapshot({ messages: many.slice().reverse() }), T0);

    expect(saved.messages).toHaveLength(THREAD_MESSAGE_LIMIT);
    expect(saved.messages[0]?.id).toBe('m030');
    expect(saved.messages.at(-1)?.id).toBe('m129');
    // The relay's cursor pointed below m000; from m030 it would skip 30 messages.
    expect(saved.nextCursor).toBeNull();

    const merged = await mergeIntoThread(db, ALICE, KEY, [msg('m130', 130)]);
    expect(merged?.messages).toHaveLength(THREAD_MESSAGE_LIMIT);
    expect(merged?.messages[0]?.id).toBe('m031');
    expect(merged?.messages.at(-1)?.id).toBe('m130');
  });

  it('expires threads not opened for 30 days; opening one keeps it', async () => {
    const db = openDb();
    const other = contactKeyOf({ crm: 'salesforce', objectType: 'lead', id: '00Q1' });
    await saveThread(db, snapshot(), T0);
    await saveThread(db, snapshot({ contactKey: other }), T0);
    await readThread(db, ALICE, KEY, T0 + THREAD_MAX_IDLE_MS - 1000);

    const removed = await pruneThreads(db, T0 + THREAD_MAX_IDLE_MS + 1000);

    expect(removed).toBe(1);
    expect(await readThread(db, ALICE, KEY)).not.toBeNull();
    expect(await readThread(db, ALICE, other)).toBeNull();
  });
});

describe('drafts', () => {
  it('keeps the rep’s unsent text per contact and forgets it once emptied', async () => {
    const db = openDb();
    const other = contactKeyOf({ crm: 'hubspot', objectType: 'contact', id: '52' });
    await saveDraft(db, ALICE, KEY, 'Hello Dana', T0);
    await saveDraft(db, ALICE, other, 'Hello Sam', T0);
    await saveDraft(db, ALICE, KEY, 'Hello Dana, see you at 3?', T0 + 1);

    expect(await loadDraft(db, ALICE, KEY)).toBe('Hello Dana, see you at 3?');
    expect(await loadDraft(db, ALICE, other)).toBe('Hello Sam');

    await saveDraft(db, ALICE, KEY, '   ');
    expect(await loadDraft(db, ALICE, KEY)).toBe('');
    expect(await db.drafts.count()).toBe(1);
  });

  it('expires drafts not edited for 30 days', async () => {
    const db = openDb();
    await saveDraft(db, ALICE, KEY, 'stale', T0);
    await saveDraft(db, ALICE, 'hubspot/contact/52', 'fresh', T0 + DRAFT_MAX_IDLE_MS);

    expect(await pruneDrafts(db, T0 + DRAFT_MAX_IDLE_MS + 1000)).toBe(1);
    expect(await loadDraft(db, ALICE, KEY)).toBe('');
    expect(await loadDraft(db, ALICE, 'hubspot/contact/52')).toBe('fresh');
  });
});
