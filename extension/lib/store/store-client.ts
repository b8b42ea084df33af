import { browser } from 'wxt/browser';
import type { ContactRef } from '../../hosts/types.ts';
import { ReconnectingPort } from '../messages/reconnecting-port.ts';
import type { SendMessageInput } from '../relay/relay-client.ts';
import type { Message } from '../relay-types.ts';
import type { PendingItem, SavedView } from './local-store.ts';
import {
  PANEL_STORE_EVENTS_PORT,
  parsePendingItems,
  parseSavedThread,
  parseStoreEvent,
  type StoreOp,
  type StoreRequest,
  type StoreResponse,
} from './store-messages.ts';

/** What the panel needs of the local store; the background holds the data (see `local-store.ts`). */
export interface PanelStore {
  readThread(contactKey: string): Promise<SavedView | null>;
  saveThread(ref: ContactRef, view: SavedView): Promise<void>;
  loadDraft(contactKey: string): Promise<string>;
  saveDraft(contactKey: string, body: string): Promise<void>;
  enqueue(
    contactKey: string,
    input: SendMessageInput,
    idempotencyKey: string,
    lastError: { code: string; message: string } | null,
  ): Promise<void>;
  pending(contactKey: string): Promise<PendingItem[]>;
  discard(key: string): Promise<void>;
  retryNow(key: string): Promise<void>;
  /** The relay answers again: send what waits. */
  flushSoon(): void;
  onOutboxChange(listener: () => void): () => void;
  onSent(listener: (contactKey: string, message: Message) => void): () => void;
  close(): void;
}

/** The CRM page's origin when the panel is framed into one (Chrome reports it; Firefox does not). */
function framingOrigin(): string | null {
  const origins = (globalThis.location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
  return origins && origins.length > 0 ? (origins.item(origins.length - 1) ?? null) : null;
}

/** The panel's client of the background's store. */
export class RemoteStore implements PanelStore {
  private readonly outboxListeners = new Set<() => void>();
  private readonly sentListeners = new Set<(contactKey: string, message: Message) => void>();
  /** The background's events; a Port, which reaches the panel frame in every browser. */
  private readonly events: ReconnectingPort;

  constructor(private readonly pageUrlOf: (ref: ContactRef) => string | null) {
    this.events = new ReconnectingPort({
      connect: () => browser.runtime.connect({ name: PANEL_STORE_EVENTS_PORT }),
      onMessage: (raw) => {
        const event = parseStoreEvent(raw);
        if (event === null) {
          console.warn('[crm-texting] ignored a malformed store event', raw);
          return false;
        }
        if (event.kind === 'changed') this.outboxChanged();
        else for (const l of this.sentListeners) l(event.contactKey, event.message);
        return true;
      },
      // Whatever changed while the background was away (a restarted worker flushing the outbox) is read again.
      onConnected: () => this.outboxChanged(),
    });
    this.events.start();
  }

  private outboxChanged(): void {
    for (const l of this.outboxListeners) l();
  }

  private async call(op: StoreOp): Promise<unknown> {
    const request: StoreRequest = { type: 'store', ...op };
    const response = (await browser.runtime.sendMessage(request)) as StoreResponse | undefined;
    if (!response || typeof response !== 'object') throw new Error('The extension background did not answer');
    if (!response.ok) throw new Error(`Local store: ${response.error}`);
    return response.value;
  }

  async readThread(contactKey: string): Promise<SavedView | null> {
    return parseSavedThread(await this.call({ op: 'read-thread', contactKey }));
  }

  async saveThread(ref: ContactRef, view: SavedView): Promise<void> {
    await this.call({ op: 'save-thread', ref, view, pageUrl: this.pageUrlOf(ref) });
  }

  async loadDraft(contactKey: string): Promise<string> {
    const value = await this.call({ op: 'load-draft', contactKey });
    return typeof value === 'string' ? value : '';
  }

  async saveDraft(contactKey: string, body: string): Promise<void> {
    await this.call({ op: 'save-draft', contactKey, body });
  }

  async enqueue(
    contactKey: string,
    input: SendMessageInput,
    key: string,
    lastError: { code: string; message: string } | null,
  ): Promise<void> {
    await this.call({ op: 'enqueue', contactKey, input, key, lastError });
  }

  async pending(contactKey: string): Promise<PendingItem[]> {
    return parsePendingItems(await this.call({ op: 'pending', contactKey }));
  }

  async discard(key: string): Promise<void> {
    await this.call({ op: 'discard', key });
  }

  async retryNow(key: string): Promise<void> {
    await this.call({ op: 'retry', key });
  }

  flushSoon(): void {
    // best effort: the background also flushes on its periodic alarm, so a lost nudge only delays the send.
    this.call({ op: 'flush' }).catch(() => undefined);
  }

  onOutboxChange(listener: () => void): () => void {
    this.outboxListeners.add(listener);
    return () => this.outboxListeners.delete(listener);
  }

  onSent(listener: (contactKey: string, message: Message) => void): () => void {
    this.sentListeners.add(listener);
    return () => this.sentListeners.delete(listener);
  }

  close(): void {
    this.events.stop();
  }
}

/** The CRM page of a record, for reopening it from a notification. */
export function recordPageUrl(ref: ContactRef, origin: string | null): string | null {
  if (!origin) return null;
  if (ref.crm === 'hubspot' && ref.portalId) return `${origin}/contacts/${ref.portalId}/record/0-1/${ref.id}`;
  if (ref.crm === 'salesforce')
    return `${origin}/lightning/r/${ref.objectType === 'lead' ? 'Lead' : 'Contact'}/${ref.id}/view`;
  if (ref.crm === 'sandbox') return `${origin}/sandbox/crm/contacts/${ref.id}`;
  return null;
}

/** The store client of a panel framed into a CRM page. */
export function openPanelStore(): PanelStore {
  const origin = framingOrigin();
  return new RemoteStore((ref) => recordPageUrl(ref, origin));
}
