import type { TokenRefresher } from '../auth/token-refresher.ts';
import { RelayClient } from '../relay/relay-client.ts';
import { browserSessionStore, credentialOf, loadSettings, type Settings } from '../settings.ts';
import { type LocalStore, openLocalStore, scopeOf } from '../store/local-store.ts';
import type { StoreEvent } from '../store/store-messages.ts';
import type { InboundNotification } from './inbound-notifier.ts';
import { followLiveEvents, inboundNotifierFor, readEventCursor } from './live-events.ts';
import { UnreadFollower } from './unread-follower.ts';

/**
 * What the background holds per signed-in identity: the relay client, the local store (saved threads,
 * drafts, the offline outbox, all in IndexedDB here, where the extension is first-party) and one live
 * stream that raises notifications and tells the outbox when the relay answers again.
 */
export interface IdentityContext {
  /** The store's scope: it names the relay and the identity (a session's email, a key's hash). */
  key: string;
  controller: AbortController;
  store: Promise<LocalStore | null>;
}

/** What the contexts tell the rest of the background: store changes for panels, texts to notify. */
export interface IdentityContextsOptions {
  refresher: TokenRefresher;
  /** Tells every open panel about a change in the store. */
  broadcast(event: StoreEvent): void;
  notify(notification: InboundNotification): void;
}

function closeStore(store: Promise<LocalStore | null>): void {
  void store.then((s) => s?.close());
}

/** The client of `settings`' identity; a session's client refreshes its token on a 401. */
function relayClientFor(settings: Settings, credential: string, refresher: TokenRefresher): RelayClient {
  return new RelayClient({
    baseUrl: settings.relayUrl,
    apiKey: credential,
    ...(settings.session
      ? {
          onUnauthorized: async (stale: string) => {
            const result = await refresher.refresh(stale);
            return result.ok ? ((await browserSessionStore.get())?.accessToken ?? null) : null;
          },
        }
      : {}),
  });
}

/**
 * Keeps the context of whoever is signed in now. Replacing one API key by another (or signing in as
 * someone else) rebuilds everything for the new identity; a stream that ended (401, relay gone for
 * good) is rebuilt on the next call.
 */
export class IdentityContexts {
  private context: IdentityContext | null = null;
  private building: Promise<IdentityContext | null> | null = null;

  constructor(private readonly options: IdentityContextsOptions) {}

  /** The current identity's context, built when needed. Overlapping calls share one build. */
  ensure(): Promise<IdentityContext | null> {
    this.building ??= this.build().finally(() => {
      this.building = null;
    });
    return this.building;
  }

  /** The current identity's local store, or null when signed out or the store is unavailable. */
  async store(): Promise<LocalStore | null> {
    return (await this.ensure())?.store ?? null;
  }

  /** Sends the outbox of the current identity soon, building its context first when needed. */
  flushOutbox(): void {
    this.ensure()
      .then((c) => c?.store)
      .then((store) => store?.flushSoon())
      .catch((error: unknown) => console.warn('[crm-texting] background setup failed', error));
  }

  private async build(): Promise<IdentityContext | null> {
    const settings = await loadSettings();
    const credential = credentialOf(settings);
    const key = credential ? await scopeOf(settings) : null;
    if (this.context && this.context.key === key) return this.context;
    this.context?.controller.abort();
    if (this.context) closeStore(this.context.store);
    this.context = null;
    if (!key || !credential) return null;
    const controller = new AbortController();
    const client = relayClientFor(settings, credential, this.options.refresher);
    const store = openLocalStore(settings, {
      send: (input, idempotencyKey) => client.sendMessage(input, idempotencyKey),
      onChange: () => this.options.broadcast({ type: 'store-event', kind: 'changed' }),
      onSent: (contactKey, message) =>
        this.options.broadcast({ type: 'store-event', kind: 'sent', contactKey, message }),
    }).catch((error: unknown) => {
      console.warn('[crm-texting] local store unavailable', error);
      return null;
    });
    const current: IdentityContext = { key, controller, store };
    this.context = current;
    const notifier = inboundNotifierFor(client, controller.signal, this.options.notify);
    const lastEventId = await readEventCursor(key);
    const unread = new UnreadFollower(client, controller.signal);
    followLiveEvents({
      identityKey: key,
      client,
      signal: controller.signal,
      store,
      notifier,
      lastEventId,
      unread,
    })
      .catch((error: unknown) => console.warn('[crm-texting] live stream stopped', error))
      .finally(() => {
        if (this.context === current) {
          this.context = null;
          closeStore(store);
        }
      });
    return current;
  }
}
