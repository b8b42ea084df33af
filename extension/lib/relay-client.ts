import type { ContactRef } from '../hosts/types.ts';
import {
  type ContactLookup,
  type Conversation,
  type ErrorBody,
  type Me,
  type Message,
  type MessagePage,
  parseContactLookup,
  parseConversations,
  parseErrorBody,
  parseMe,
  parseMessageEnvelope,
  parseMessagePage,
  parseNumbers,
  type SenderNumber,
} from './relay-types.ts';
import { ShapeError } from './validate.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * A failed relay call. `status` 0 means the relay was not reached (network, DNS, CORS), so the outcome
 * of a send is unknown; any other status carries the relay's error envelope when it sent one.
 */
export class RelayError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.name = 'RelayError';
    this.status = status;
    this.code = body.code;
    this.details = body.details;
  }

  /** Whether the relay may or may not have acted on the request (so a retry must reuse its idempotency key). */
  get outcomeUnknown(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

/** The body of `POST /v1/messages`. */
export interface SendMessageInput {
  from: string;
  to: string;
  body: string;
  contact?: Pick<ContactRef, 'crm' | 'objectType' | 'id'>;
}

export interface RelayClientOptions {
  baseUrl: string;
  apiKey: string;
  fetch?: FetchLike;
}

/** Typed access to the relay's `/v1` API; every response is validated before it reaches the UI. */
export class RelayClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly fetchImpl: FetchLike;

  constructor(options: RelayClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    // Wrapped because calling the global fetch as a method of another object throws "Illegal invocation".
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
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

  conversations(phone: string, signal?: AbortSignal): Promise<Conversation[]> {
    const q = new URLSearchParams({ phone });
    return this.request('GET', `/v1/conversations?${q}`, parseConversations, { signal });
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

  /** URL and headers for the SSE stream, which is read with fetch because EventSource cannot send Authorization. */
  eventStreamRequest(): { url: string; headers: Record<string, string> } {
    return {
      url: `${this.baseUrl}/v1/events`,
      headers: { Authorization: `Bearer ${this.apiKey}`, Accept: 'text/event-stream' },
    };
  }

  get fetcher(): FetchLike {
    return this.fetchImpl;
  }

  private async request<T>(
    method: 'GET' | 'POST',
    path: string,
    parse: (value: unknown) => T,
    options: { signal?: AbortSignal | undefined; body?: unknown; headers?: Record<string, string> },
  ): Promise<T> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.apiKey}`,
      Accept: 'application/json',
      ...options.headers,
    };
    const init: RequestInit = { method, headers, cache: 'no-store' };
    if (options.signal) init.signal = options.signal;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }

    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, init);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new RelayError(0, {
        code: 'NETWORK_ERROR',
        message: `Could not reach the relay at ${this.baseUrl}. Check the address in settings and that the relay is running.`,
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
      throw new RelayError(
        response.status,
        parseErrorBody(json) ?? {
          code: `HTTP_${response.status}`,
          message: `The relay answered ${response.status} ${response.statusText}`.trim(),
          details: null,
        },
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
}
