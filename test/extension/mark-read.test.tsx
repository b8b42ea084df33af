// @vitest-environment node
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RelayClient } from '../../extension/lib/relay/relay-client.ts';
import type { Message } from '../../extension/lib/relay-types.ts';
import { messageFixture } from './fixtures.ts';
import { mounter, until } from './preact-dom.ts';

type Preact = typeof import('preact');
let preact: Preact;
let useMarkRead: typeof import('../../extension/hooks/use-mark-read.ts').useMarkRead;

beforeAll(async () => {
  preact = await import('preact');
  ({ useMarkRead } = await import('../../extension/hooks/use-mark-read.ts'));
});
const { mount, cleanup } = mounter(() => preact);
afterEach(cleanup);

const CONVERSATION = '0b8f7c1e-1111-4a5b-9c9d-000000000002';

function relay() {
  const calls: string[] = [];
  const client = new RelayClient({
    baseUrl: 'http://relay.test',
    apiKey: 'k',
    fetch: async (url, init) => {
      calls.push(`${init.method} ${new URL(url).pathname}`);
      return new Response(JSON.stringify({ conversationId: CONVERSATION, assignee: null, unread: false }), {
        status: 200,
      });
    },
  });
  return { client, calls };
}

describe('a thread on screen is read', () => {
  it('tells the relay when the thread is shown and again when a reply arrives, only for a person', async () => {
    const { client, calls } = relay();
    const reply = (at: string): Message =>
      messageFixture({ conversationId: CONVERSATION, direction: 'inbound', createdAt: at, updatedAt: at });
    function View({ messages, person }: { messages: Message[]; person: boolean }) {
      useMarkRead(client, CONVERSATION, messages, person);
      return null;
    }
    const first = [reply('2026-01-10T10:00:00.000Z')];
    const root = mount(<View messages={first} person />);
    await until(() => calls.length === 1, 'the first read');
    preact.render(<View messages={[...first]} person />, root);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toHaveLength(1);
    preact.render(<View messages={[...first, reply('2026-01-10T10:05:00.000Z')]} person />, root);
    await until(() => calls.length === 2, 'the read after a reply');
    expect(calls).toEqual([
      `POST /v1/conversations/${CONVERSATION}/read`,
      `POST /v1/conversations/${CONVERSATION}/read`,
    ]);
    cleanup();
    const key = relay();
    function KeyView() {
      useMarkRead(key.client, CONVERSATION, first, false);
      return null;
    }
    mount(<KeyView />);
    await new Promise((r) => setTimeout(r, 30));
    expect(key.calls).toEqual([]);
  });
});
