import type { Message } from '../relay-types.ts';
import { belongsToThread, mergeMessages } from '../thread.ts';
import type { PanelDb, ThreadEntry } from './panel-db.ts';

/** The cached messages per thread: enough to fill the panel, small enough to keep PII on disk limited. */
export const THREAD_MESSAGE_LIMIT = 100;

/** Cached threads unopened this long are dropped. */
export const THREAD_MAX_IDLE_MS = 30 * 24 * 60 * 60 * 1000;

const FULL_E164 = /^\+\d{6,15}$/;

/** What the panel saves after a fetch; the store stamps the times. */
export type ThreadSnapshot = Omit<ThreadEntry, 'savedAt' | 'openedAt'>;

/**
 * The cached view of a contact, or null. Reading counts as opening it, which keeps it from expiring.
 */
export async function readThread(
  db: PanelDb,
  scope: string,
  contactKey: string,
  now: number = Date.now(),
): Promise<ThreadEntry | null> {
  return db.transaction('rw', db.threads, async () => {
    const entry = await db.threads.get([scope, contactKey]);
    if (!entry) return null;
    await db.threads.update([scope, contactKey], { openedAt: now });
    return { ...entry, openedAt: now };
  });
}

/**
 * Stores a freshly fetched view. When the cache already holds the same sender's thread, its copies of a
 * message win over older ones in the snapshot (a live event may have landed after the fetch started),
 * and its messages newer than the snapshot's oldest are kept; older cached ones are dropped so the
 * thread never has a gap the cursor cannot fill.
 */
export async function saveThread(
  db: PanelDb,
  snapshot: ThreadSnapshot,
  now: number = Date.now(),
): Promise<ThreadEntry> {
  return db.transaction('rw', db.threads, async () => {
    const existing = await db.threads.get([snapshot.scope, snapshot.contactKey]);
    let messages = mergeMessages([], snapshot.messages);
    if (existing && existing.sender === snapshot.sender) {
      const oldest = messages[0] ? Date.parse(messages[0].createdAt) : Number.POSITIVE_INFINITY;
      const kept = existing.messages.filter((m) => Date.parse(m.createdAt) >= oldest);
      messages = mergeMessages(kept, messages);
    }
    const entry: ThreadEntry = {
      ...snapshot,
      ...trimmed(messages, snapshot.nextCursor),
      savedAt: now,
      openedAt: now,
    };
    await db.threads.put(entry);
    return entry;
  });
}

/**
 * Merges live messages into a cached thread (ignoring those of another contact or sender number) and
 * returns the updated entry; null when the contact is not cached. Does not count as opening it.
 */
export async function mergeIntoThread(
  db: PanelDb,
  scope: string,
  contactKey: string,
  incoming: readonly Message[],
): Promise<ThreadEntry | null> {
  return db.transaction('rw', db.threads, async () => {
    const entry = await db.threads.get([scope, contactKey]);
    if (!entry) return null;
    const relevant = incoming.filter(inThread(entry));
    if (relevant.length === 0) return entry;
    const updated: ThreadEntry = {
      ...entry,
      ...trimmed(mergeMessages(entry.messages, relevant), entry.nextCursor),
    };
    await db.threads.put(updated);
    return updated;
  });
}

/**
 * Wipes one identity's cached threads (contact details and history) on sign-out. Drafts and queued texts
 * are the rep's own unsent work: they stay, hidden by the scope, until the same rep signs in again.
 */
export async function clearScope(db: PanelDb, scope: string): Promise<number> {
  return db.threads.where('scope').equals(scope).delete();
}

/** Wipes every identity's cached threads, e.g. when the relay address changes. */
export async function clearAll(db: PanelDb): Promise<void> {
  await db.threads.clear();
}

/** Drops cached threads not opened for `THREAD_MAX_IDLE_MS`; returns how many. */
export async function pruneThreads(db: PanelDb, now: number = Date.now()): Promise<number> {
  return db.threads
    .where('openedAt')
    .below(now - THREAD_MAX_IDLE_MS)
    .delete();
}

/**
 * Whether a message belongs to the entry's thread: its sender's conversation, or (for a conversation the
 * cache does not know yet) the sender number and the contact's phone. A masked phone (rep without PII
 * access) is never matched, since two contacts can share a mask.
 */
function inThread(entry: ThreadEntry): (m: Message) => boolean {
  const { sender } = entry;
  const conversation = entry.conversations.find((c) => c.senderNumber === sender);
  const { phone } = entry.lookup.contact;
  const fullPhone = phone !== null && FULL_E164.test(phone) ? phone : null;
  return (m) =>
    (conversation !== undefined && m.conversationId === conversation.id) ||
    (fullPhone !== null && sender !== null && belongsToThread(m, fullPhone, sender));
}

/**
 * The newest `THREAD_MESSAGE_LIMIT` messages. When older ones are cut the cursor would skip them, so it
 * is dropped: the panel's next fetch of the newest page brings a fresh one.
 */
function trimmed(
  messages: Message[],
  nextCursor: string | null,
): { messages: Message[]; nextCursor: string | null } {
  if (messages.length <= THREAD_MESSAGE_LIMIT) return { messages, nextCursor };
  return { messages: messages.slice(-THREAD_MESSAGE_LIMIT), nextCursor: null };
}
