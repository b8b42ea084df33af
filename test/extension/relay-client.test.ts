// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { type FetchLike, RelayClient, RelayError } from '../../extension/lib/relay/relay-client.ts';

interface Call {
  url: string;
  init: RequestInit;
}

function fakeFetch(respond: (call: Call) => Response | Promise<Response>): {
  fetch: FetchLike;
  calls: Call[];
} {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      const call = { url, init };
      calls.push(call);
      return respond(call);
    },
  };
}

function headersOf(call: Call | undefined): Record<string, string> {
  return (call?.init.headers ?? {}) as Record<string, string>;
}

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const message = {
  id: 'm1',
  conversationId: 'c1',
  direction: 'outbound',
  from: '+15550001111',
  to: '+15552223333',
  body: 'Hi',
  status: 'queued',
  segments: 1,
  encoding: 'GSM-7',
  errorCode: null,
  errorMessage: null,
  sentBy: 'rep@example.com',
  createdAt: '2025-01-01T10:00:00.000Z',
  updatedAt: '2025-01-01T10:00:00.000Z',
};

describe('relay client', () => {
  it('sends the bearer key and parses /v1/me', async () => {
    const f = fakeFetch(() =>
      json(200, { orgId: 'o1', orgName: 'Acme', role: 'rep', permissions: ['send'] }),
    );
    const client = new RelayClient({ baseUrl: 'http://127.0.0.1:8787/', apiKey: 'k_123', fetch: f.fetch });
    await expect(client.me()).resolves.toEqual({
      orgId: 'o1',
      orgName: 'Acme',
      role: 'rep',
      permissions: ['send'],
      // Fields an older relay does not send take the defaults it implies.
      userId: null,
      email: null,
      displayName: null,
      seesPii: false,
      extension: { templates: [], locked: { notifications: null } },
    });
    expect(f.calls[0]?.url).toBe('http://127.0.0.1:8787/v1/me');
    expect(headersOf(f.calls[0]).Authorization).toBe('Bearer k_123');
  });

  it('encodes the lookup query and validates the contact', async () => {
    const f = fakeFetch(() =>
      json(200, {
        contact: {
          crm: 'hubspot',
          objectType: 'contact',
          id: '51',
          name: 'Ada',
          phone: '+15552223333',
          timeZone: null,
        },
        consent: { status: 'opted_in', updatedAt: null, source: 'web form' },
      }),
    );
    const client = new RelayClient({ baseUrl: 'https://relay.example', apiKey: 'k', fetch: f.fetch });
    const result = await client.lookupContact({
      crm: 'hubspot',
      objectType: 'contact',
      id: '51',
      portalId: '9',
    });
    expect(result.consent.status).toBe('opted_in');
    expect(f.calls[0]?.url).toBe(
      'https://relay.example/v1/contacts/lookup?crm=hubspot&objectType=contact&id=51',
    );
  });

  it('posts a message with the idempotency key', async () => {
    const f = fakeFetch(() => json(202, { message }));
    const client = new RelayClient({ baseUrl: 'https://relay.example', apiKey: 'k', fetch: f.fetch });
    const sent = await client.sendMessage({ from: '+15550001111', to: '+15552223333', body: 'Hi' }, 'key-1');
    expect(sent.id).toBe('m1');
    const init = f.calls[0]?.init;
    expect(init?.method).toBe('POST');
    expect(headersOf(f.calls[0])['Idempotency-Key']).toBe('key-1');
    expect(JSON.parse(String(init?.body))).toEqual({ from: '+15550001111', to: '+15552223333', body: 'Hi' });
  });

  it('surfaces the error envelope with its code and details', async () => {
    const f = fakeFetch(() =>
      json(422, { error: { code: 'OPTED_OUT', message: 'The recipient opted out.', details: { at: 'x' } } }),
    );
    const client = new RelayClient({ baseUrl: 'https://relay.example', apiKey: 'k', fetch: f.fetch });
    const error = await client.numbers().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({
      status: 422,
      code: 'OPTED_OUT',
      message: 'The recipient opted out.',
      details: { at: 'x' },
    });
    expect((error as RelayError).outcomeUnknown).toBe(false);
  });

  it('reports a non-envelope error body by HTTP status', async () => {
    const f = fakeFetch(
      () => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    );
    const client = new RelayClient({ baseUrl: 'https://relay.example', apiKey: 'k', fetch: f.fetch });
    const error = await client.numbers().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'HTTP_502' });
    expect((error as RelayError).outcomeUnknown).toBe(true);
  });

  it('turns a network failure into NETWORK_ERROR with unknown outcome', async () => {
    const client = new RelayClient({
      baseUrl: 'https://relay.example',
      apiKey: 'k',
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    });
    const error = await client.me().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: 'NETWORK_ERROR' });
    expect((error as RelayError).outcomeUnknown).toBe(true);
  });

  it('rejects a 2xx body of the wrong shape instead of passing it on', async () => {
    const f = fakeFetch(() => json(200, { numbers: [{ id: 1, e164: '+1555' }] }));
    const client = new RelayClient({ baseUrl: 'https://relay.example', apiKey: 'k', fetch: f.fetch });
    await expect(client.numbers()).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
  });

  it('pages messages with the cursor', async () => {
    const f = fakeFetch(() => json(200, { messages: [message], nextCursor: 'next' }));
    const client = new RelayClient({ baseUrl: 'https://relay.example', apiKey: 'k', fetch: f.fetch });
    const page = await client.messages('c/1', { cursor: 'abc' });
    expect(page.nextCursor).toBe('next');
    expect(f.calls[0]?.url).toBe('https://relay.example/v1/conversations/c%2F1/messages?limit=50&cursor=abc');
  });
});
