import Dexie, { type Table } from 'dexie';
import { contactKeyOf } from '../contact-ref.ts';
import type { SendMessageInput } from '../relay/relay-client.ts';
import type { ContactLookup, Conversation, Message, SenderNumber } from '../relay-types.ts';

/**
 * The panel's local store in the extension origin's IndexedDB: cached threads for instant display,
 * unsent drafts and the offline outbox. Every row carries a `scope` (relay + signed-in identity, see
 * `storeScope`) so a different user on the same browser never reads another's rows.
 */

/** One contact's last-seen view, shown at once while the panel fetches a fresh copy. */
export interface ThreadEntry {
  scope: string;
  contactKey: string;
  lookup: ContactLookup;
  numbers: SenderNumber[];
  conversations: Conversation[];
  /** The sender number whose conversation `messages` belongs to. */
  sender: string | null;
  /** Oldest first, at most `THREAD_MESSAGE_LIMIT` (the newest ones). */
  messages: Message[];
  /** The relay's cursor for the messages older than `messages[0]`; null when none or unknown. */
  nextCursor: string | null;
  /** The CRM page the contact was opened from. */
  pageUrl: string | null;
  /** When the relay's data was last saved here (epoch ms). */
  savedAt: number;
  /** When the rep last opened the contact (epoch ms); entries unopened for 30 days are pruned. */
  openedAt: number;
}

/** The rep's unsent text for one contact. */
export interface DraftEntry {
  scope: string;
  contactKey: string;
  body: string;
  updatedAt: number;
}

export type OutboxState = 'waiting' | 'sending' | 'failed';

/** The relay's answer to the last attempt, kept so the rep sees why an item is stuck. */
export interface OutboxError {
  code: string;
  message: string;
}

/** A message the rep sent while the relay could not be reached, sent later with the same key. */
export interface OutboxItem {
  /** The `Idempotency-Key` of every attempt, so the relay deduplicates and the text never goes out twice. */
  idempotencyKey: string;
  scope: string;
  contactKey: string;
  input: SendMessageInput;
  createdAt: number;
  state: OutboxState;
  attempts: number;
  /** Not attempted before this time (epoch ms); the backoff after a failed attempt. */
  nextAttemptAt: number;
  lastError: OutboxError | null;
  /** When the attempt in flight started; set only while `state` is 'sending' (crash recovery reads it). */
  sendingSince: number | null;
}

export interface PanelDbOptions {
  name?: string;
  /** Injected in tests (fake-indexeddb); the browser's own otherwise. */
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
}

export const DB_NAME = 'crm-texting';

export class PanelDb extends Dexie {
  // `declare` because Dexie defines these itself; a class field would reset them to undefined.
  declare readonly threads: Table<ThreadEntry, [string, string]>;
  declare readonly drafts: Table<DraftEntry, [string, string]>;
  declare readonly outbox: Table<OutboxItem, string>;

  constructor(options: PanelDbOptions = {}) {
    const dependencies =
      options.indexedDB && options.IDBKeyRange
        ? { indexedDB: options.indexedDB, IDBKeyRange: options.IDBKeyRange }
        : {};
    super(options.name ?? DB_NAME, dependencies);
    this.version(1).stores({
      // One cached view per contact and scope; `scope` to wipe a user's rows, `openedAt` to expire them.
      threads: '[scope+contactKey], scope, openedAt',
      // One draft per contact and scope; `updatedAt` to expire abandoned ones.
      drafts: '[scope+contactKey], scope, updatedAt',
      // Keyed by idempotency key; `[scope+state]` for the flusher, `[scope+contactKey]` for the thread's list.
      outbox: 'idempotencyKey, [scope+state], [scope+contactKey], scope',
    });
  }
}

/**
 * The scope of the signed-in identity on a relay: `relayUrl|email` for a session, else
 * `relayUrl|key:<hash>` for an API key (a short SHA-256 prefix, so the key itself is never stored).
 */
export async function storeScope(
  relayUrl: string,
  identity: { email: string } | { apiKey: string },
): Promise<string> {
  if ('email' in identity) return `${relayUrl}|${identity.email.trim().toLowerCase()}`;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(identity.apiKey));
  const hex = [...new Uint8Array(digest).slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${relayUrl}|key:${hex}`;
}

// The key of a contact in every table; defined with the panel's contact references.
export { contactKeyOf };
