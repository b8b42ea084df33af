import type { LocalStore } from './local-store.ts';
import {
  parseStoreRequest,
  type StoreResponse,
  type StoreSender,
  storeAcceptsFrom,
} from './store-messages.ts';

/**
 * The background's side of the panel's store: answers one validated request from the panel page
 * with the store of the identity currently signed in. Returns null when the message is not a store
 * request (another listener's), or when the sender may not use the store.
 */
export function handleStoreMessage(
  raw: unknown,
  sender: StoreSender,
  self: { runtimeId: string; origin: string },
  storeFor: () => Promise<LocalStore | null>,
): Promise<StoreResponse> | null {
  if (typeof raw !== 'object' || raw === null || (raw as { type?: unknown }).type !== 'store') return null;
  if (!storeAcceptsFrom(sender, self)) {
    console.warn('[crm-texting] rejected store request from', sender.url);
    return null;
  }
  const request = parseStoreRequest(raw);
  if (request === null) return Promise.resolve({ ok: false, error: 'malformed store request' });
  return (async (): Promise<StoreResponse> => {
    const store = await storeFor();
    if (store === null) return { ok: false, error: 'not signed in' };
    switch (request.op) {
      case 'read-thread':
        return { ok: true, value: await store.readThread(request.contactKey) };
      case 'save-thread':
        await store.saveThread(request.ref, request.view, request.pageUrl);
        return { ok: true, value: null };
      case 'load-draft':
        return { ok: true, value: await store.loadDraft(request.contactKey) };
      case 'save-draft':
        await store.saveDraft(request.contactKey, request.body);
        return { ok: true, value: null };
      case 'enqueue':
        await store.enqueue(request.contactKey, request.input, request.key, request.lastError);
        return { ok: true, value: null };
      case 'pending':
        return { ok: true, value: await store.pending(request.contactKey) };
      case 'discard':
        await store.discard(request.key);
        return { ok: true, value: null };
      case 'retry':
        await store.retryNow(request.key);
        return { ok: true, value: null };
      case 'flush':
        store.flushSoon();
        return { ok: true, value: null };
    }
  })().catch((error: unknown) => ({
    ok: false,
    error: error instanceof Error ? error.message : String(error),
  }));
}
