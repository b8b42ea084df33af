import { browser } from 'wxt/browser';
import { isOwnText } from '../own-text.ts';
import { runEventStream } from '../relay/event-stream.ts';
import type { RelayClient } from '../relay/relay-client.ts';
import type { SseEvent } from '../relay/sse-parser.ts';
import { type Me, parseMessageEvent } from '../relay-types.ts';
import { effectiveNotificationPreference, loadNotificationPreference } from '../settings.ts';
import { contactForConversation, type LocalStore } from '../store/local-store.ts';
import { type InboundNotification, InboundNotifier } from './inbound-notifier.ts';
import type { UnreadFollower } from './unread-follower.ts';

const CURSOR_KEY = 'eventsCursor';

/** The last event seen by this identity's stream, so a worker woken by the alarm catches up from there. */
export async function readEventCursor(identityKey: string): Promise<string | undefined> {
  const cursorKey = `${CURSOR_KEY}:${identityKey}`;
  const stored = (await browser.storage.session.get(cursorKey))[cursorKey];
  return typeof stored === 'string' && stored !== '' ? stored : undefined;
}

/**
 * Which live texts become desktop notifications for the identity `client` speaks for: its own
 * preference, unless the organisation locked one, and only the conversations it owns for "mine".
 */
export function inboundNotifierFor(
  client: RelayClient,
  signal: AbortSignal,
  notify: (notification: InboundNotification) => void,
): InboundNotifier {
  let me: Me | null = null;
  return new InboundNotifier({
    preference: async () => {
      me ??= await client.me(signal).catch((error: unknown) => {
        // The org's locked preference is unknown: the rep's own choice applies until the next event asks again.
        console.warn('[crm-texting] could not read the locked notification preference', error);
        return null;
      });
      const own = await loadNotificationPreference();
      const pref = effectiveNotificationPreference(own, me?.extension.locked.notifications ?? null);
      // An API key without a user owns no conversations: "mine" means every text it can see.
      return pref === 'mine' && me !== null && me.userId === null ? 'all' : pref;
    },
    // preference() read /v1/me just before: a "mine" preference is only asked about with it known.
    myUserId: async () => me?.userId ?? null,
    isOwnText: (m) => isOwnText(m, me),
    contactFor: contactForConversation,
    notify,
  });
}

/** One identity's live stream and what its events feed. */
export interface LiveEventsOptions {
  identityKey: string;
  client: RelayClient;
  signal: AbortSignal;
  store: Promise<LocalStore | null>;
  notifier: InboundNotifier;
  lastEventId: string | undefined;
  /** The icon's unread badge, read again on changes. */
  unread: UnreadFollower;
}

/**
 * Follows the relay's live events until `signal` aborts or the relay refuses the stream: raises
 * notifications, tells the outbox when the relay answers again, and keeps the cursor.
 */
export function followLiveEvents(options: LiveEventsOptions): Promise<void> {
  const { url, headers } = options.client.eventStreamRequest();
  return runEventStream({
    url,
    headers,
    fetch: options.client.fetcher,
    signal: options.signal,
    ...(options.lastEventId === undefined ? {} : { lastEventId: options.lastEventId }),
    onState: (state) => {
      if (state.kind !== 'open') return;
      void options.store.then((s) => s?.flushSoon());
      options.unread.soon();
    },
    onEvent: (event) => liveEvent(event, options),
  });
}

function liveEvent(event: SseEvent, { identityKey, notifier, unread }: LiveEventsOptions): void {
  if (event.lastEventId) {
    browser.storage.session
      .set({ [`${CURSOR_KEY}:${identityKey}`]: event.lastEventId })
      .catch((error: unknown) => console.warn('[crm-texting] could not keep the live-event cursor', error));
  }
  if (event.event === 'inbox.updated' || event.event === 'message.created') unread.soon();
  if (event.event !== 'message.created' && event.event !== 'message.updated') return;
  try {
    const { message, participants } = parseMessageEvent(JSON.parse(event.data));
    notifier.noteOutbound(message);
    notifier
      .handle(message, event.event, participants)
      .catch((error: unknown) => console.warn('[crm-texting] inbound notification failed', error));
  } catch (error) {
    console.warn('[crm-texting] ignored malformed live event', error);
  }
}
