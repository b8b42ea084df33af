import { scanText } from '../../../server/compliance/content-scanner.ts';
import type { ContactRef } from '../../hosts/types.ts';
import type { SendMessageInput } from '../relay/relay-client.ts';
import type { Message } from '../relay-types.ts';
import type { Settings } from '../settings.ts';
import { loadDraft, pruneDrafts, saveDraft } from './drafts.ts';
import { discard, enqueue, listOutbox, OutboxFlusher, retryNow } from './outbox.ts';
import { contactKeyOf, type OutboxItem, PanelDb, storeScope } from './panel-db.ts';
import { pruneThreads, readThread, saveThread, type ThreadSnapshot } from './thread-cache.ts';

/**
 * The extension's IndexedDB store, owned by the background. The panel is a third-party frame inside
 * the CRM page, where Chrome denies IndexedDB whenever third-party cookies are blocked (the default
 * in current Chromium, and always in Incognito); the background is first-party to the extension, so
 * the panel reaches the store through messages (`store-client.ts` in the panel, `store-request-handler.ts` in the background).
 */

/** A text in the offline outbox, as the thread shows it. */
export interface PendingItem {
  key: string;
  body: string;
  createdAt: number;
  state: OutboxItem['state'];
  error: { code: string; message: string } | null;
}

/** What the panel saves of a contact's view; the store adds who and which contact. */
export type SavedView = Omit<ThreadSnapshot, 'scope' | 'contactKey' | 'pageUrl'>;

/** While texts wait, look again this often even if nothing announces that the relay is back. */
const IDLE_RETRY_MS = 15_000;

let shared: PanelDb | null = null;
function database(): PanelDb {
  shared ??= new PanelDb();
  return shared;
}

export interface LocalStoreOptions {
  db: PanelDb;
  scope: string;
  /** One send to the relay with its idempotency key. */
  send: (input: SendMessageInput, idempotencyKey: string) => Promise<Message>;
  /** The outbox changed (queued, sending, failed, sent, discarded). */
  onChange?: () => void;
  /** A queued text was accepted by the relay. */
  onSent?: (contactKey: string, message: Message) => void;
}

/**
 * One identity's saved threads, drafts and offline outbox, with the flusher that sends the outbox
 * when the relay is reachable again (after a failure, on a timer; on demand via `flushSoon`).
 */
export class LocalStore {
  readonly scope: string;
  private readonly db: PanelDb;
  private readonly flusher: OutboxFlusher;
  private readonly onChange: () => void;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private flushing = false;
  private again = false;

  constructor(options: LocalStoreOptions) {
    this.db = options.db;
    this.scope = options.scope;
    this.onChange = options.onChange ?? (() => undefined);
    const onSent = options.onSent ?? (() => undefined);
    this.flusher = new OutboxFlusher({
      db: options.db,
      scope: options.scope,
      send: options.send,
      onSent: (item, message) => onSent(item.contactKey, message),
      onChange: this.onChange,
    });
    this.flushSoon();
  }

  readThread(contactKey: string) {
    return readThread(this.db, this.scope, contactKey);
  }

  async saveThread(ref: ContactRef, view: SavedView, pageUrl: string | null): Promise<void> {
    await saveThread(this.db, { ...view, scope: this.scope, contactKey: contactKeyOf(ref), pageUrl });
  }

  loadDraft(contactKey: string): Promise<string> {
    return loadDraft(this.db, this.scope, contactKey);
  }

  /** Card, bank and SSN numbers are never written to disk: a draft holding one is saved redacted. */
  async saveDraft(contactKey: string, body: string): Promise<void> {
    const scan = scanText(body);
    const sensitive = scan.findings.some((f) => f.kind !== 'phi');
    await saveDraft(this.db, this.scope, contactKey, sensitive ? scan.redacted : body);
  }

  async enqueue(
    contactKey: string,
    input: SendMessageInput,
    idempotencyKey: string,
    lastError: { code: string; message: string } | null = null,
  ): Promise<void> {
    // The relay would refuse it anyway; keeping it would store the number on disk meanwhile.
    if (scanText(input.body).findings.some((f) => f.kind !== 'phi')) {
      throw new Error(
        'This text contains a card, bank or Social Security number, so it is not kept for sending later. Remove the number.',
      );
    }
    await enqueue(this.db, { scope: this.scope, contactKey, input, idempotencyKey, lastError });
    this.onChange();
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
    if (await discard(this.db, key)) this.onChange();
  }

  async retryNow(key: string): Promise<void> {
    if (await retryNow(this.db, key)) {
      this.onChange();
      this.flushSoon();
    }
  }

  /** Sends what is due now: the relay answered again (live stream open, alarm, a panel asked). */
  flushSoon(): void {
    this.schedule(0);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
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
}

type Identity = Pick<Settings, 'relayUrl' | 'session' | 'apiKey'>;

/** The scope of the settings' relay and identity; null when there is no credential. */
export async function scopeOf(settings: Identity): Promise<string | null> {
  if (settings.session) return storeScope(settings.relayUrl, { email: settings.session.email });
  if (settings.apiKey) return storeScope(settings.relayUrl, { apiKey: settings.apiKey });
  return null;
}

/** Opens the store of the settings' identity (background only); null when there is no credential. */
export async function openLocalStore(
  settings: Identity,
  options: Omit<LocalStoreOptions, 'db' | 'scope'>,
): Promise<LocalStore | null> {
  const scope = await scopeOf(settings);
  if (scope === null) return null;
  const db = database();
  await db.open();
  // Saved threads and drafts nobody opened for a month go; queued texts never expire here.
  Promise.all([pruneThreads(db), pruneDrafts(db)]).catch((error: unknown) =>
    console.warn('[crm-texting] pruning old threads and drafts failed; the next start tries again', error),
  );
  return new LocalStore({ ...options, db, scope });
}

/**
 * Signing out wipes that identity's saved threads (contact details and history). Drafts and queued
 * texts stay, hidden by the scope, and go out when the same rep signs in again: nothing is lost.
 */
export async function forgetLocalData(settings: Identity): Promise<void> {
  const scope = await scopeOf(settings);
  if (scope !== null) await database().threads.where('scope').equals(scope).delete();
}

/** Texts of this identity still in the offline outbox. */
export async function waitingTexts(settings: Identity): Promise<number> {
  const scope = await scopeOf(settings);
  return scope === null ? 0 : database().outbox.where('scope').equals(scope).count();
}

/** Name and page of the contact a conversation belongs to, from any saved thread (for notifications). */
export async function contactForConversation(
  conversationId: string,
): Promise<{ name: string; pageUrl: string | null } | null> {
  let found: { name: string; pageUrl: string | null } | null = null;
  await database().threads.each((entry) => {
    if (found === null && entry.conversations.some((c) => c.id === conversationId)) {
      found = { name: entry.lookup.contact.name, pageUrl: entry.pageUrl };
    }
  });
  return found;
}
