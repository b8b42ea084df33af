import type { ContactRef } from '../../hosts/types.ts';
import { type InboxFilter, type InboxPage, parseInboxPage } from '../inbox-types.ts';
import {
  type ConsentRecorded,
  type ContactLookup,
  type Conversation,
  type ErrorBody,
  type EscalationLogged,
  type Me,
  type Message,
  type MessagePage,
  type Preflight,
  parseConsentRecorded,
  parseContactLookup,
  parseConversations,
  parseErrorBody,
  parseEscalation,
  parseMe,
  parseMessageEnvelope,
  parseMessagePage,
  parseNumbers,
  parsePreflight,
  parseRevealedContactPhone,
  type RevealedContactPhone,
  type SenderNumber,
} from '../relay-types.ts';
import { ShapeError } from '../validate.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * A failed relay call. `status` 0 means the relay was not reached (network, DNS, CORS), so the outcome
 * of a send is unknown; any other status carries the relay's error envelope when it sent one.
 */
export class RelayError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** Seconds from the `Retry-After` header (e.g. with TOO_MANY_ATTEMPTS), when the relay sent one. */
  readonly retryAfterSeconds: number | null;
  /** The relay that answered, so a page it names (details.readAt) can be opened there. */
  readonly relayUrl: string | null;

  constructor(
    status: number,
    body: ErrorBody,
    retryAfterSeconds: number | null = null,
    relayUrl: string | null = null,
  ) {
    super(body.message);
    this.name = 'RelayError';
    this.status = status;
    this.code = body.code;
    this.details = body.details;
    this.retryAfterSeconds = retryAfterSeconds;
    this.relayUrl = relayUrl;
  }

  /** Whether the relay may or may not have acted on the request (so a retry must reuse its idempotency key). */
  get outcomeUnknown(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

/**
 * The body of `POST /v1/messages` (and of preflight). `to` may be left out when `contact` is given:
 * the relay then texts the CRM record's number, which a rep without PII access only sees masked.
 */
export interface SendMessageInput {
  from: string;
  to?: string;
  body: string;
  contact?: Pick<ContactRef, 'crm' | 'objectType' | 'id'>;
  /** ISO instant to send at (quiet hours: the customer's morning). */
  sendAt?: string;
  /** Send although another rep answered the customer within the last minute (ALREADY_ANSWERED). */
  confirmAnswered?: boolean;
}

/** The body of `POST /v1/consent`: consent a rep records, with how it was given. */
export interface RecordConsentInput {
  phone: string;
  kind: 'opt_in' | 'opt_out';
  source: 'api' | 'web_form' | 'verbal' | 'crm_import';
  evidence: string;
}

/** The body of `POST /v1/contacts/escalate`: a call or email task on the CRM record. */
export interface EscalateInput {
  contact: Pick<ContactRef, 'crm' | 'objectType' | 'id'>;
  kind: 'call' | 'email';
  note: string;
}

export interface RelayClientOptions {
  baseUrl: string;
  /** An API key or a signed-in session's access token; both are sent as `Authorization: Bearer`. */
  apiKey: string;
  fetch?: FetchLike;
  /**
   * Called once when the relay answers 401 to `staleToken`; resolves to a fresh token to retry the call
   * with once, or null to give up (the 401 then reaches the caller).
   */
  onUnauthorized?: (staleToken: string) => Promise<string | null>;
}

type RequestOptions = {
  signal?: AbortSignal | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  token?: string | null;
};

/**
 * One JSON call to the relay with its error envelope mapped to `RelayError`. Used by `RelayClient` and
 * by the sign-in calls, which carry no token.
 */
export async function callRelay<T>(
  fetchImpl: FetchLike,
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  parse: (value: unknown) => T,
  options: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const init: RequestInit = { method, headers, cache: 'no-store' };
  if (options.signal) init.signal = options.signal;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }

  let response: Response;
  try {
    response = await fetchImpl(`${baseUrl}${path}`, init);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new RelayError(0, {
      code: 'NETWORK_ERROR',
      message: `Could not reach the relay at ${baseUrl}. Check the address in settings and that the relay is running.`,
      details: error instanceof Error ? error.message : String(error),
    });
  }

  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = undefined;
  }

  if (!response.ok) {
    const body = parseErrorBody(json) ?? {
      code: `HTTP_${response.status}`,
      message: `The relay answered ${response.status} ${response.statusText}`.trim(),
      details: null,
    };
    const retryAfter = Number(response.headers?.get?.('Retry-After'));
    throw new RelayError(
      response.status,
      body,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
      baseUrl,
    );
  }
  try {
    return parse(json);
  } catch (error) {
    if (!(error instanceof ShapeError)) throw error;
    throw new RelayError(response.status, {
      code: 'BAD_RESPONSE',
      message: `The relay sent a response this extension does not understand (${error.message}).`,
      details: null,
    });
  }
}

/** Typed access to the relay's `/v1` API; every response is validated before it reaches the UI. */
export class RelayClient {
  readonly baseUrl: string;
  private token: string;
  private readonly rawFetch: FetchLike;
  private readonly fetchImpl: FetchLike;
  private readonly onUnauthorized: ((staleToken: string) => Promise<string | null>) | undefined;

  constructor(options: RelayClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.apiKey;
    this.onUnauthorized = options.onUnauthorized;
    // Wrapped because calling the global fetch as a method of another object throws "Illegal invocation".
    this.rawFetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.fetchImpl = (input, init) => this.authorizedFetch(input, init);
  }

  /**
   * Sends with the current token; on a 401 asks for a fresh token once and retries once with it. Every
   * call (the SSE stream included) goes through here, so a token refreshed for one call serves the rest.
   */
  private async authorizedFetch(input: string, init: RequestInit): Promise<Response> {
    const withToken = (token: string): RequestInit => ({
      ...init,
      headers: { ...(init.headers as Record<string, string> | undefined), Authorization: `Bearer ${token}` },
    });
    const used = this.token;
    const response = await this.rawFetch(input, withToken(used));
    if (response.status !== 401 || !this.onUnauthorized) return response;
    // A concurrent call may already have a fresh token; otherwise ask for one.
    const fresh = this.token !== used ? this.token : await this.onUnauthorized(used);
    if (!fresh || fresh === used) return response;
    this.token = fresh;
    // best effort: the refused answer's body is dropped unread; a failed cancel leaves nothing to release.
    await response.body?.cancel().catch(() => undefined);
    return this.rawFetch(input, withToken(fresh));
  }

  me(signal?: AbortSignal): Promise<Me> {
    return this.request('GET', '/v1/me', parseMe, { signal });
  }

  numbers(signal?: AbortSignal): Promise<SenderNumber[]> {
    return this.request('GET', '/v1/numbers', parseNumbers, { signal });
  }

  lookupContact(ref: ContactRef, signal?: AbortSignal): Promise<ContactLookup> {
    const q = new URLSearchParams({ crm: ref.crm, objectType: ref.objectType, id: ref.id });
    return this.request('GET', `/v1/contacts/lookup?${q}`, parseContactLookup, { signal });
  }

  /** The contact's number unmasked, for a principal with pii.reveal; the relay records every reveal. */
  revealContactPhone(ref: ContactRef, signal?: AbortSignal): Promise<RevealedContactPhone> {
    const body = { crm: ref.crm, objectType: ref.objectType, id: ref.id };
    return this.request('POST', '/v1/contacts/reveal', parseRevealedContactPhone, { signal, body });
  }

  /** The contact's conversations, by phone when the rep sees it, else by the CRM record. */
  conversations(
    by: { phone: string } | { contact: Pick<ContactRef, 'crm' | 'objectType' | 'id'> },
    signal?: AbortSignal,
  ): Promise<Conversation[]> {
    const q = new URLSearchParams();
    if ('phone' in by) q.set('phone', by.phone);
    else {
      q.set('crm', by.contact.crm);
      q.set('objectType', by.contact.objectType);
      q.set('crmId', by.contact.id);
    }
    return this.request('GET', `/v1/conversations?${q}`, parseConversations, { signal });
  }

  preflight(input: SendMessageInput, signal?: AbortSignal): Promise<Preflight> {
    return this.request('POST', '/v1/messages/preflight', parsePreflight, { signal, body: input });
  }

  recordConsent(input: RecordConsentInput, signal?: AbortSignal): Promise<ConsentRecorded> {
    return this.request('POST', '/v1/consent', parseConsentRecorded, { signal, body: input });
  }

  escalate(input: EscalateInput, signal?: AbortSignal): Promise<EscalationLogged> {
    const body = { ...input.contact, kind: input.kind, note: input.note };
    return this.request('POST', '/v1/contacts/escalate', parseEscalation, { signal, body });
  }

  messages(
    conversationId: string,
    page: { limit?: number; cursor?: string | null } = {},
    signal?: AbortSignal,
  ): Promise<MessagePage> {
    const q = new URLSearchParams({ limit: String(page.limit ?? 50) });
    if (page.cursor) q.set('cursor', page.cursor);
    const path = `/v1/conversations/${encodeURIComponent(conversationId)}/messages?${q}`;
    return this.request('GET', path, parseMessagePage, { signal });
  }

  sendMessage(input: SendMessageInput, idempotencyKey: string, signal?: AbortSignal): Promise<Message> {
    return this.request('POST', '/v1/messages', parseMessageEnvelope, {
      signal,
      body: input,
      headers: { 'Idempotency-Key': idempotencyKey },
    });
  }

  /** The caller is composing in (or stopped composing in) a conversation: the others see it. */
  typing(conversationId: string, state: 'composing' | 'stopped', signal?: AbortSignal): Promise<void> {
    const path = `/v1/conversations/${encodeURIComponent(conversationId)}/typing`;
    return this.request('POST', path, () => undefined, { signal, body: { state } });
  }

  /** The caller has been shown this conversation's thread: it leaves their unread inbox. */
  markRead(conversationId: string, signal?: AbortSignal): Promise<void> {
    const path = `/v1/conversations/${encodeURIComponent(conversationId)}/read`;
    return this.request('POST', path, () => undefined, { signal });
  }

  /** Puts a conversation back in the caller's unread inbox (on every browser they use). */
  markUnread(conversationId: string, signal?: AbortSignal): Promise<void> {
    const path = `/v1/conversations/${encodeURIComponent(conversationId)}/unread`;
    return this.request('POST', path, () => undefined, { signal });
  }

  /** One page of the inbox: the caller's unread conversations first (filter "mine"), then recent ones. */
  inbox(
    query: { filter: InboxFilter; q?: string; cursor?: string | null; limit?: number },
    signal?: AbortSignal,
  ): Promise<InboxPage> {
    const params = new URLSearchParams({ filter: query.filter, limit: String(query.limit ?? 50) });
    if (query.q) params.set('q', query.q);
    if (query.cursor) params.set('cursor', query.cursor);
    return this.request('GET', `/v1/inbox?${params}`, parseInboxPage, { signal });
  }

  /** Cancels a scheduled text before it leaves; the relay answers with it, now `cancelled`. */
  cancelScheduled(messageId: string, signal?: AbortSignal): Promise<Message> {
    const path = `/v1/messages/${encodeURIComponent(messageId)}/cancel`;
    return this.request('POST', path, parseMessageEnvelope, { signal });
  }

  /** Moves a scheduled text to `sendAt` (an ISO instant); the relay judges it again by every rule. */
  rescheduleMessage(messageId: string, sendAt: string, signal?: AbortSignal): Promise<Message> {
    const path = `/v1/messages/${encodeURIComponent(messageId)}/reschedule`;
    return this.request('POST', path, parseMessageEnvelope, { signal, body: { sendAt } });
  }

  /** URL and headers for the SSE stream, which is read with fetch because EventSource cannot send Authorization. */
  eventStreamRequest(): { url: string; headers: Record<string, string> } {
    return {
      url: `${this.baseUrl}/v1/events`,
      headers: { Authorization: `Bearer ${this.token}`, Accept: 'text/event-stream' },
    };
  }

  get fetcher(): FetchLike {
    return this.fetchImpl;
  }

  private request<T>(
    method: 'GET' | 'POST',
    path: string,
    parse: (value: unknown) => T,
    options: RequestOptions,
  ): Promise<T> {
    return callRelay(this.fetchImpl, this.baseUrl, method, path, parse, { ...options, token: this.token });
  }
}
