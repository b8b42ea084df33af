// @vitest-environment node
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreEventPorts } from '../../extension/lib/background/store-event-ports.ts';
import type { SendMessageInput } from '../../extension/lib/relay/relay-client.ts';
import { RelayError } from '../../extension/lib/relay/relay-client.ts';
import type { Message } from '../../extension/lib/relay-types.ts';
import { LocalStore } from '../../extension/lib/store/local-store.ts';
import { PanelDb } from '../../extension/lib/store/panel-db.ts';
import {
  PANEL_STORE_EVENTS_PORT,
  parsePendingItems,
  parseSavedThread,
  parseStoreEvent,
  parseStoreRequest,
  storeAcceptsFrom,
} from '../../extension/lib/store/store-messages.ts';
import { handleStoreMessage } from '../../extension/lib/store/store-request-handler.ts';
import { contactLookupFixture, fakePort, messageFixture } from './fixtures.ts';

const SELF = { runtimeId: 'ext-id', origin: 'chrome-extension://ext-id/' };

const PANEL = { id: 'ext-id', url: 'chrome-extension://ext-id/panel.html#crm=hubspot', tab: { id: 7 } };
const CONTACT = 'hubspot/contact/51';

const message = (id: string, body = id): Message => messageFixture({ id, body, sentBy: 'Sam' });

const view = {
  lookup: contactLookupFixture(),
  numbers: [{ id: 'n1', e164: '+15550001111', label: null }],
  conversations: [
    {
      id: 'conv_1',
      senderNumber: '+15550001111',
      contactPhone: '+15125550100',
      contact: null,
      lastMessageAt: null,
    },
  ],
  sender: '+15550001111',
  messages: [message('m1')],
  nextCursor: null,
};

const input: SendMessageInput = { from: '+15550001111', to: '+15125550100', body: 'Hello' };

describe('store protocol', () => {
  it('accepts each request shape and refuses anything else', () => {
    expect(parseStoreRequest({ type: 'store', op: 'read-thread', contactKey: CONTACT })).toEqual({
      type: 'store',
      op: 'read-thread',
      contactKey: CONTACT,
    });
    expect(
      parseStoreRequest({
        type: 'store',
        op: 'save-thread',
        ref: { crm: 'hubspot', objectType: 'contact', id: '51', portalId: '86' },
        view,
        pageUrl: null,
      }),
    ).toMatchObject({ op: 'save-thread', ref: { portalId: '86' } });
    expect(
      parseStoreRequest({
        type: 'store',
        op: 'enqueue',
        contactKey: CONTACT,
        input,
        key: 'k-1',
        lastError: null,
      }),
    ).toMatchObject({ op: 'enqueue', key: 'k-1' });
    for (const bad of [
      null,
      'store',
      { type: 'store', op: 'drop-table' },
      { type: 'store', op: 'read-thread', contactKey: '../../etc' },
      { type: 'store', op: 'save-draft', contactKey: CONTACT, body: 'x'.repeat(1601) },
      {
        type: 'store',
        op: 'enqueue',
        contactKey: CONTACT,
        input: { ...input, to: 'tel:1' },
        key: 'k',
        lastError: null,
      },
      {
        type: 'store',
        op: 'enqueue',
        contactKey: CONTACT,
        input: { from: '+15550001111', body: 'x' },
        key: 'k',
        lastError: null,
      },
      { type: 'store', op: 'enqueue', contactKey: CONTACT, input, key: 'has space', lastError: null },
      {
        type: 'store',
        op: 'save-thread',
        ref: { crm: 'hubspot', objectType: 'contact', id: '51' },
        view: { ...view, messages: 'x' },
        pageUrl: null,
      },
      { type: 'store', op: 'discard' },
    ]) {
      expect(parseStoreRequest(bad)).toBeNull();
    }
  });

  it('takes requests only from the panel page framed in a tab', () => {
    expect(storeAcceptsFrom(PANEL, SELF)).toBe(true);
    expect(storeAcceptsFrom({ ...PANEL, tab: undefined }, SELF)).toBe(false);
    expect(
      storeAcceptsFrom({ ...PANEL, url: 'https://app.hubspot.com/contacts/1/record/0-1/51' }, SELF),
    ).toBe(false);
    expect(storeAcceptsFrom({ ...PANEL, url: 'chrome-extension://ext-id/options.html' }, SELF)).toBe(false);
    expect(storeAcceptsFrom({ ...PANEL, id: 'other' }, SELF)).toBe(false);
  });

  it('posts store events only to panels framed in a tab, over their own Port', () => {
    const ports = new StoreEventPorts();
    const panel = fakePort(PANEL_STORE_EVENTS_PORT, PANEL);
    const attackers = [
      // A content script carries our id but the CRM page's URL.
      fakePort(PANEL_STORE_EVENTS_PORT, {
        ...PANEL,
        url: 'https://app.hubspot.com/contacts/1/record/0-1/51',
      }),
      fakePort(PANEL_STORE_EVENTS_PORT, { ...PANEL, id: 'other' }),
      fakePort(PANEL_STORE_EVENTS_PORT, { ...PANEL, tab: undefined }),
      fakePort(PANEL_STORE_EVENTS_PORT, { ...PANEL, url: 'chrome-extension://ext-id/options.html' }),
    ];
    expect(ports.serve(panel, SELF)).toBe(true);
    for (const port of attackers) {
      expect(ports.serve(port, SELF)).toBe(true);
      expect(port.disconnected).toBe(true);
    }
    expect(ports.serve(fakePort('panel-settings', PANEL), SELF)).toBe(false);
    ports.broadcast({ type: 'store-event', kind: 'changed' });
    expect(panel.posted).toEqual([{ type: 'store-event', kind: 'changed' }]);
    for (const port of attackers) expect(port.posted).toEqual([]);
    panel.drop();
    ports.broadcast({ type: 'store-event', kind: 'changed' });
    expect(panel.posted).toHaveLength(1);
  });

  it('validates events and answers before the panel uses them', () => {
    expect(parseStoreEvent({ type: 'store-event', kind: 'changed' })).toEqual({
      type: 'store-event',
      kind: 'changed',
    });
    expect(
      parseStoreEvent({ type: 'store-event', kind: 'sent', contactKey: CONTACT, message: message('m2') }),
    ).toMatchObject({
      kind: 'sent',
      message: { id: 'm2' },
    });
    expect(
      parseStoreEvent({ type: 'store-event', kind: 'sent', contactKey: CONTACT, message: {} }),
    ).toBeNull();
    expect(parseSavedThread(null)).toBeNull();
    expect(parseSavedThread({ ...view, lookup: {} })).toBeNull();
    expect(() =>
      parsePendingItems([{ key: 'k', body: 'b', createdAt: 1, state: 'lost', error: null }]),
    ).toThrow();
  });
});

describe('store host in the background', () => {
  const stores: LocalStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) s.close();
  });

  function setup(send: (input: SendMessageInput, key: string) => Promise<Message>) {
    const db = new PanelDb({ name: `host-${Math.random()}`, indexedDB, IDBKeyRange });
    const sent: Array<{ contactKey: string; message: Message }> = [];
    let changes = 0;
    const store = new LocalStore({
      db,
      scope: 'http://relay|rep@acme.example',
      send,
      onChange: () => {
        changes += 1;
      },
      onSent: (contactKey, m) => sent.push({ contactKey, message: m }),
    });
    stores.push(store);
    const ask = async (request: unknown, sender: typeof PANEL | object = PANEL) =>
      handleStoreMessage(request, sender, SELF, async () => store);
    return { store, ask, sent, changes: () => changes };
  }

  it('saves and reads back a thread and a draft for the panel', async () => {
    const { ask } = setup(async () => message('x'));
    const ref = { crm: 'hubspot', objectType: 'contact', id: '51', portalId: '86' };
    expect(await ask({ type: 'store', op: 'read-thread', contactKey: CONTACT })).toEqual({
      ok: true,
      value: null,
    });
    expect(
      await ask({ type: 'store', op: 'save-thread', ref, view, pageUrl: 'https://app.hubspot.com/x' }),
    ).toEqual({
      ok: true,
      value: null,
    });
    const read = await ask({ type: 'store', op: 'read-thread', contactKey: CONTACT });
    expect(parseSavedThread(read?.ok ? read.value : null)?.messages.map((m) => m.id)).toEqual(['m1']);
    await ask({ type: 'store', op: 'save-draft', contactKey: CONTACT, body: 'half-written' });
    expect(await ask({ type: 'store', op: 'load-draft', contactKey: CONTACT })).toEqual({
      ok: true,
      value: 'half-written',
    });
  });

  it('queues a text the relay did not get and sends it once, with its key, when the relay answers', async () => {
    let online = false;
    const calls: string[] = [];
    const { ask, sent, store } = setup(async (i, key) => {
      calls.push(key);
      if (!online) throw new RelayError(0, { code: 'NETWORK_ERROR', message: 'offline', details: null });
      return message('m-sent', i.body);
    });
    await ask({
      type: 'store',
      op: 'enqueue',
      contactKey: CONTACT,
      input,
      key: 'key-1',
      lastError: { code: 'NETWORK_ERROR', message: 'offline' },
    });
    const pending = await ask({ type: 'store', op: 'pending', contactKey: CONTACT });
    expect(parsePendingItems(pending?.ok ? pending.value : [])).toMatchObject([
      { key: 'key-1', state: 'waiting' },
    ]);
    online = true;
    await ask({ type: 'store', op: 'retry', key: 'key-1' });
    store.flushSoon();
    for (let i = 0; i < 100 && sent.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sent).toEqual([{ contactKey: CONTACT, message: message('m-sent', 'Hello') }]);
    expect(new Set(calls)).toEqual(new Set(['key-1']));
    const after = await ask({ type: 'store', op: 'pending', contactKey: CONTACT });
    expect(after).toEqual({ ok: true, value: [] });
  });

  it('never writes a card number to disk: drafts are redacted and such a text is not queued', async () => {
    const { ask } = setup(async () => message('x'));
    await ask({
      type: 'store',
      op: 'save-draft',
      contactKey: CONTACT,
      body: 'Card 4111 1111 1111 1111 thanks',
    });
    const draft = await ask({ type: 'store', op: 'load-draft', contactKey: CONTACT });
    expect(draft?.ok && draft.value).toBe('Card [card •••• 1111 (Visa)] thanks');
    expect(JSON.stringify(draft)).not.toContain('4111 1111');
    const queued = await ask({
      type: 'store',
      op: 'enqueue',
      contactKey: CONTACT,
      input: { ...input, body: 'Card 4111 1111 1111 1111' },
      key: 'key-card',
      lastError: null,
    });
    expect(queued).toMatchObject({ ok: false, error: expect.stringMatching(/not kept for sending later/) });
    expect(await ask({ type: 'store', op: 'pending', contactKey: CONTACT })).toEqual({ ok: true, value: [] });
  });

  // #13 finding 4: the extension scans with the relay's scanner, normalisation included.
  it.each([
    ['full-width digits', 'Card ４１１１ １１１１ １１１１ １１１１ thanks'],
    ['zero-width spaces', 'Card 4111\u200b1111\u200b1111\u200b1111 thanks'],
    ['Arabic-Indic digits', 'Card ٤١١١ ١١١١ ١١١١ ١١١١ thanks'],
    ['underscores', 'Card 4111_1111_1111_1111 thanks'],
    ['a newline inside', 'Card 4111 1111\n1111 1111 thanks'],
  ])('never writes a card number written with %s to disk, as a draft or in the outbox', async (_, body) => {
    const { ask } = setup(async () => message('x'));
    await ask({ type: 'store', op: 'save-draft', contactKey: CONTACT, body });
    const draft = await ask({ type: 'store', op: 'load-draft', contactKey: CONTACT });
    expect(draft?.ok && draft.value).toBe('Card [card •••• 1111 (Visa)] thanks');
    const queued = await ask({
      type: 'store',
      op: 'enqueue',
      contactKey: CONTACT,
      input: { ...input, body },
      key: 'key-disguised',
      lastError: null,
    });
    expect(queued).toMatchObject({ ok: false, error: expect.stringMatching(/not kept for sending later/) });
    expect(await ask({ type: 'store', op: 'pending', contactKey: CONTACT })).toEqual({ ok: true, value: [] });
  });

  it('ignores other messages, refuses strangers and explains a malformed request', async () => {
    const { ask } = setup(async () => message('x'));
    expect(await ask({ type: 'panel-state', status: 'ready', inboundCount: 0 })).toBeNull();
    expect(
      await ask({ type: 'store', op: 'flush' }, { ...PANEL, url: 'https://app.hubspot.com/' }),
    ).toBeNull();
    expect(await ask({ type: 'store', op: 'nope' })).toEqual({ ok: false, error: 'malformed store request' });
    const none = await handleStoreMessage({ type: 'store', op: 'flush' }, PANEL, SELF, async () => null);
    expect(none).toEqual({ ok: false, error: 'not signed in' });
  });
});
