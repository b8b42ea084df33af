import type { ContactRef } from '../hosts/types.ts';
import { contactKeyOf, type OutboxItem, PanelDb, storeScope } from './db.ts';
import { loadDraft, saveDraft } from './drafts.ts';
import { discard, enqueue, listOutbox, OutboxFlusher, retryNow } from './outbox.ts';
import type { RelayClient, SendMessageInput } from './relay-client.ts';
import type { Message } from './relay-types.ts';
import type { Settings } from './settings.ts';
import { readThread, saveThread, type ThreadSnapshot } from './thread-cache.ts';

/** A text in the offline outbox, as the thread shows it. */
export interface PendingItem {
  key: string;
  body: string;
  createdAt: number;
  state: OutboxItem['state'];
  error: { code: string; message: string } | null;
}

type SavedView = Omit<ThreadSnapshot, 'scope' | 'contactKey' | 'pageUrl'>;

/** Tabs tell each other that the outbox changed (a text queued in one goes out from another). */
const CHANNEL = 'crm-texting-outbox';
/** While texts wait, look again this often even if nothing announces that the relay is back. */
const IDLE_RETRY_MS = 15_000;

let shared: PanelDb | null = null;
function database(): PanelDb {
  shared ??= new PanelDb();
  return shared;
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

/**
 * The panel's view of its IndexedDB store for one relay and identity: the saved copy of each thread,
 * drafts, and the offline outbox with the flusher that sends it when the relay is reachable again.
 */
export class LocalStore {
  private readonly flusher: OutboxFlusher;
  private readonly outboxListeners = new Set<() => void>();
  private readonly sentListeners = new Set<(contactKey: string, message: Message) => void>();
  private readonly channel: BroadcastChannel | null;
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing = false;
  private again = false;

  constructor(
    private readonly db: PanelDb,
    readonly scope: string,
    client: RelayClient,
    private readonly pageOrigin: string | null,
  ) {
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
    this.flusher = new OutboxFlusher({
      db,
      scope,
      send: (input, key) => client.sendMessage(input, key),
      onSent: (item, message) => {
        for (const listener of this.sentListeners) listener(item.contactKey, message);
      },
      onChange: () => this.changed(true),
    });
    this.channel?.addEventListener('message', () => this.changed(false), { signal: this.controller.signal });
    if (typeof window !== 'undefined') {
      window.addEventListener('online', () => this.flushSoon(), { signal: this.controller.signal });
    }
    this.flushSoon();
  }

  readThread(contactKey: string) {
    return readThread(this.db, this.scope, contactKey);
  }

  async saveThread(ref: ContactRef, view: SavedView): Promise<void> {
    const pageUrl = recordPageUrl(ref, this.pageOrigin);
    await saveThread(this.db, { ...view, scope: this.scope, contactKey: contactKeyOf(ref), pageUrl });
  }

  loadDraft(contactKey: string): Promise<string> {
    return loadDraft(this.db, this.scope, contactKey);
  }

  saveDraft(contactKey: string, body: string): Promise<void> {
    return saveDraft(this.db, this.scope, contactKey, body).then(() => undefined);
  }

  async enqueue(contactKey: string, input: SendMessageInput, idempotencyKey: string): Promise<void> {
    await enqueue(this.db, { scope: this.scope, contactKey, input, idempotencyKey });
    this.changed(true);
    this.schedule(2_000);
  }

  async pending(contactKey: string): Promise<PendingItem[]> {
    const items = await listOutbox(this.db, this.scope, contactKey);
    return items.map((i) => ({
      key: i.idempotencyKey,
      body: i.input.body,
      createdAt: i.createdAt,
      state: i.state,
      error: i.lastError,
    }));
  }

  async discard(key: string): Promise<void> {
    if (await discard(this.db, key)) this.changed(true);
  }

  async retryNow(key: string): Promise<void> {
    if (await retryNow(this.db, key)) {
      this.changed(true);
      this.flushSoon();
    }
  }

  onOutboxChange(listener: () => void): () => void {
    this.outboxListeners.add(listener);
    return () => this.outboxListeners.delete(listener);
  }

  onSent(listener: (contactKey: string, message: Message) => void): () => void {
    this.sentListeners.add(listener);
    return () => this.sentListeners.delete(listener);
  }

  /** Sends what is due now; called when the relay answers again (live stream open, browser online). */
  flushSoon(): void {
    this.schedule(0);
  }

  close(): void {
    this.controller.abort();
    clearTimeout(this.timer);
    this.channel?.close();
  }

  private schedule(delayMs: number): void {
    if (this.controller.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), Math.max(0, delayMs));
  }

  private async run(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = true;
    try {
      const result = await this.flusher.flush();
      if (result.retryAt !== null) this.schedule(Math.min(IDLE_RETRY_MS, result.retryAt - Date.now()));
    } catch (error) {
      console.warn('[crm-texting] outbox flush failed', error);
      this.schedule(IDLE_RETRY_MS);
    } finally {
      this.flushing = false;
      if (this.again) {
        this.again = false;
        this.schedule(0);
      }
    }
  }

  private changed(broadcast: boolean): void {
    for (const listener of this.outboxListeners) listener();
    if (broadcast) this.channel?.postMessage('changed');
  }
}

/** The CRM page's origin when the panel is framed into one (Chrome reports it; Firefox does not). */
function framingOrigin(): string | null {
  const origins = (globalThis.location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
  return origins && origins.length > 0 ? (origins.item(origins.length - 1) ?? null) : null;
}

/** Opens the store of the settings' relay and identity; null when there is no credential. */
export async function openLocalStore(
  settings: Pick<Settings, 'relayUrl' | 'session' | 'apiKey'>,
  client: RelayClient,
): Promise<LocalStore | null> {
  const scope = await scopeOf(settings);
  if (scope === null) return null;
  const db = database();
  await db.open();
  return new LocalStore(db, scope, client, framingOrigin());
}

async function scopeOf(settings: Pick<Settings, 'relayUrl' | 'session' | 'apiKey'>): Promise<string | null> {
  if (settings.session) return storeScope(settings.relayUrl, { email: settings.session.email });
  if (settings.apiKey) return storeScope(settings.relayUrl, { apiKey: settings.apiKey });
  return null;
}

/**
 * Signing out wipes that identity's saved threads (contact details and history). Drafts and queued
 * texts stay, hidden by the scope, and go out when the same rep signs in again: nothing is lost.
 */
export async function forgetLocalData(
  settings: Pick<Settings, 'relayUrl' | 'session' | 'apiKey'>,
): Promise<void> {
  const scope = await scopeOf(settings);
  if (scope !== null) await database().threads.where('scope').equals(scope).delete();
}

/** Texts of this identity still in the offline outbox. */
export async function waitingTexts(
  settings: Pick<Settings, 'relayUrl' | 'session' | 'apiKey'>,
): Promise<number> {
  const scope = await scopeOf(settings);
  return scope === null ? 0 : database().outbox.where('scope').equals(scope).count();
}

/** Name and page of the contact a conversation belongs to, from any saved thread (for notifications). */
export async function contactForConversation(
  conversationId: string,
): Promise<{ name: string; pageUrl: string | null } | null> {
  const db = database();
  let found: { name: string; pageUrl: string | null } | null = null;
  await db.threads.each((entry) => {
    if (found === null && entry.conversations.some((c) => c.id === conversationId)) {
      found = { name: entry.lookup.contact.name, pageUrl: entry.pageUrl };
    }
  });
  return found;
}
