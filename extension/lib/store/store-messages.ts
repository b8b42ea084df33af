/**
 * Messages between the panel and the background's local store (saved threads, drafts, outbox).
 * Like `messages/extension-messages.ts`: every request is validated field by field and accepted only from the panel
 * page; every event the background broadcasts is validated by the panel before use.
 */
import type { ContactRef } from '../../hosts/types.ts';
import { type ExtensionIdentity, isPanelInTab, type SenderInfo } from '../messages/extension-messages.ts';
import type { SendMessageInput } from '../relay/relay-client.ts';
import {
  type Message,
  parseContactLookup,
  parseConversations,
  parseMessage,
  parseNumbers,
} from '../relay-types.ts';
import { arr, obj, ShapeError, str, strOrNull } from '../validate.ts';
import type { PendingItem, SavedView } from './local-store.ts';

export type StoreOp =
  | { op: 'read-thread'; contactKey: string }
  | { op: 'save-thread'; ref: ContactRef; view: SavedView; pageUrl: string | null }
  | { op: 'load-draft'; contactKey: string }
  | { op: 'save-draft'; contactKey: string; body: string }
  | {
      op: 'enqueue';
      contactKey: string;
      input: SendMessageInput;
      key: string;
      lastError: { code: string; message: string } | null;
    }
  | { op: 'pending'; contactKey: string }
  | { op: 'discard'; key: string }
  | { op: 'retry'; key: string }
  | { op: 'flush' };

/** Panel → background. */
export type StoreRequest = { type: 'store' } & StoreOp;

/** The background's answer: the op's value, or why it failed (no credential, storage error). */
export type StoreResponse = { ok: true; value: unknown } | { ok: false; error: string };

/** The Port each panel opens for the background's store events (see `StoreEventPorts`). */
export const PANEL_STORE_EVENTS_PORT = 'panel-store-events';

/** Background → every open panel, over its store-events Port: the outbox changed, or a queued text went out. */
export type StoreEvent =
  | { type: 'store-event'; kind: 'changed' }
  | { type: 'store-event'; kind: 'sent'; contactKey: string; message: Message };

const CONTACT_KEY = /^(hubspot|salesforce|sandbox)\/(contact|lead)\/[A-Za-z0-9_-]{1,64}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const E164 = /^\+\d{6,15}$/;

function contactKey(value: unknown, path: string): string {
  const key = str(value, path);
  if (!CONTACT_KEY.test(key)) throw new ShapeError(path, 'a contact key crm/objectType/id');
  return key;
}

function idempotencyKey(value: unknown, path: string): string {
  const key = str(value, path);
  if (!IDEMPOTENCY_KEY.test(key)) throw new ShapeError(path, 'an idempotency key');
  return key;
}

function bounded(value: unknown, path: string, max: number): string {
  const s = str(value, path);
  if (s.length > max) throw new ShapeError(path, `at most ${max} characters`);
  return s;
}

function contactRef(value: unknown, path: string): ContactRef {
  const o = obj(value, path);
  const key = contactKey(
    `${str(o.crm, `${path}.crm`)}/${str(o.objectType, `${path}.objectType`)}/${str(o.id, `${path}.id`)}`,
    path,
  );
  const [crm, objectType, id] = key.split('/') as [ContactRef['crm'], ContactRef['objectType'], string];
  const ref: ContactRef = { crm, objectType, id };
  if (o.portalId !== undefined) {
    const portalId = str(o.portalId, `${path}.portalId`);
    if (!/^\d{1,20}$/.test(portalId)) throw new ShapeError(`${path}.portalId`, 'digits');
    ref.portalId = portalId;
  }
  return ref;
}

function sendInput(value: unknown, path: string): SendMessageInput {
  const o = obj(value, path);
  const from = str(o.from, `${path}.from`);
  if (!E164.test(from)) throw new ShapeError(`${path}.from`, 'an E.164 number');
  const input: SendMessageInput = { from, body: bounded(o.body, `${path}.body`, 1600) };
  if (o.to !== undefined) {
    const to = str(o.to, `${path}.to`);
    if (!E164.test(to)) throw new ShapeError(`${path}.to`, 'an E.164 number');
    input.to = to;
  }
  if (o.contact !== undefined) {
    const { crm, objectType, id } = contactRef(o.contact, `${path}.contact`);
    input.contact = { crm, objectType, id };
  }
  if (o.sendAt !== undefined) input.sendAt = bounded(o.sendAt, `${path}.sendAt`, 40);
  if (input.to === undefined && input.contact === undefined)
    throw new ShapeError(path, 'a "to" or a "contact"');
  return input;
}

function savedView(value: unknown, path: string): SavedView {
  const o = obj(value, path);
  const messages = arr(o.messages, `${path}.messages`, parseMessage);
  if (messages.length > 500) throw new ShapeError(`${path}.messages`, 'at most 500 messages');
  return {
    // The relay's own parsers: what is saved is exactly what the panel could have received.
    lookup: parseContactLookup(o.lookup),
    numbers: parseNumbers({ numbers: o.numbers }),
    conversations: parseConversations({ conversations: o.conversations }),
    sender: strOrNull(o.sender, `${path}.sender`),
    messages,
    nextCursor: o.nextCursor === null ? null : bounded(o.nextCursor, `${path}.nextCursor`, 200),
  };
}

function errorOrNull(value: unknown, path: string): { code: string; message: string } | null {
  if (value === null) return null;
  const o = obj(value, path);
  return { code: bounded(o.code, `${path}.code`, 100), message: bounded(o.message, `${path}.message`, 2000) };
}

/** The request when it is exactly one of the store's shapes, else null. */
export function parseStoreRequest(value: unknown): StoreRequest | null {
  try {
    const o = obj(value, 'request');
    if (o.type !== 'store') return null;
    switch (o.op) {
      case 'read-thread':
      case 'load-draft':
      case 'pending':
        return { type: 'store', op: o.op, contactKey: contactKey(o.contactKey, 'contactKey') };
      case 'save-thread':
        return {
          type: 'store',
          op: 'save-thread',
          ref: contactRef(o.ref, 'ref'),
          view: savedView(o.view, 'view'),
          pageUrl: o.pageUrl === null ? null : bounded(o.pageUrl, 'pageUrl', 2000),
        };
      case 'save-draft':
        return {
          type: 'store',
          op: 'save-draft',
          contactKey: contactKey(o.contactKey, 'contactKey'),
          body: bounded(o.body, 'body', 1600),
        };
      case 'enqueue':
        return {
          type: 'store',
          op: 'enqueue',
          contactKey: contactKey(o.contactKey, 'contactKey'),
          input: sendInput(o.input, 'input'),
          key: idempotencyKey(o.key, 'key'),
          lastError: errorOrNull(o.lastError, 'lastError'),
        };
      case 'discard':
      case 'retry':
        return { type: 'store', op: o.op, key: idempotencyKey(o.key, 'key') };
      case 'flush':
        return { type: 'store', op: 'flush' };
      default:
        return null;
    }
  } catch (error) {
    if (error instanceof ShapeError) return null;
    throw error;
  }
}

/** The event when it is one of the shapes the background broadcasts, else null. */
export function parseStoreEvent(value: unknown): StoreEvent | null {
  try {
    const o = obj(value, 'event');
    if (o.type !== 'store-event') return null;
    if (o.kind === 'changed') return { type: 'store-event', kind: 'changed' };
    if (o.kind === 'sent') {
      return {
        type: 'store-event',
        kind: 'sent',
        contactKey: contactKey(o.contactKey, 'contactKey'),
        message: parseMessage(o.message),
      };
    }
    return null;
  } catch (error) {
    if (error instanceof ShapeError) return null;
    throw error;
  }
}

/** The pending items of a `pending` answer, validated. */
export function parsePendingItems(value: unknown): PendingItem[] {
  return arr(value, 'pending', (v, p) => {
    const o = obj(v, p);
    const state = str(o.state, `${p}.state`);
    if (state !== 'waiting' && state !== 'sending' && state !== 'failed')
      throw new ShapeError(`${p}.state`, 'a state');
    const createdAt = o.createdAt;
    if (typeof createdAt !== 'number' || !Number.isFinite(createdAt))
      throw new ShapeError(`${p}.createdAt`, 'a number');
    return {
      key: idempotencyKey(o.key, `${p}.key`),
      body: str(o.body, `${p}.body`),
      createdAt,
      state,
      error: errorOrNull(o.error ?? null, `${p}.error`),
    };
  });
}

/** The parts of `runtime.MessageSender` the checks need. */
export type StoreSender = SenderInfo;

/**
 * Only the panel page, framed in a tab, may use the store (a content script also carries our id but
 * reports the CRM page's URL): the same check as the panel's other messages.
 */
export function storeAcceptsFrom(sender: StoreSender, self: ExtensionIdentity): boolean {
  return isPanelInTab(sender, self);
}

/** A `read-thread` answer: the saved view, or null when the contact was never saved. */
export function parseSavedThread(value: unknown): SavedView | null {
  if (value === null || value === undefined) return null;
  try {
    return savedView(value, 'thread');
  } catch (error) {
    if (error instanceof ShapeError) return null;
    throw error;
  }
}
