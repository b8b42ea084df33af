// @vitest-environment node
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TypingListener, TypingNotice } from '../../extension/hooks/use-live-messages.ts';
import { RelayClient } from '../../extension/lib/relay/relay-client.ts';
import { messageFixture } from './fixtures.ts';
import { mounter, until } from './preact-dom.ts';

// Issue #19 (4) in the panel: "Sam is typing…" from conversation.typing events (never the rep's own),
// this rep's composing told to the relay at most every few seconds and "stopped" when the draft
// empties; and a send the relay answers ALREADY_ANSWERED waits for "Send anyway", sent with the same
// key and confirmAnswered.
type Preact = typeof import('preact');
let preact: Preact;
let hooks: typeof import('../../extension/hooks/use-typing.ts');
let sendHooks: typeof import('../../extension/hooks/use-composer-send.ts');

beforeAll(async () => {
  preact = await import('preact');
  hooks = await import('../../extension/hooks/use-typing.ts');
  sendHooks = await import('../../extension/hooks/use-composer-send.ts');
});
const { mount, cleanup } = mounter(() => preact);
afterEach(cleanup);

const CONVERSATION = '0b8f7c1e-1111-4a5b-9c9d-000000000002';
const ME = '0b8f7c1e-1111-4a5b-9c9d-0000000000aa';
const SAM = '0b8f7c1e-1111-4a5b-9c9d-0000000000bb';

function relay(answer: (path: string, body: unknown) => Response) {
  const calls: { path: string; body: unknown; key: string | null }[] = [];
  const client = new RelayClient({
    baseUrl: 'http://relay.test',
    apiKey: 'k',
    fetch: async (url, init) => {
      const path = new URL(url).pathname;
      const body = init.body === undefined ? null : JSON.parse(String(init.body));
      const key = new Headers(init.headers).get('idempotency-key');
      calls.push({ path, body, key });
      return answer(path, body);
    },
  });
  return { client, calls };
}

describe('who else is typing', () => {
  it('shows a colleague composing in the shown conversation, never the rep, and tells the relay sparingly', async () => {
    const { client, calls } = relay(() => new Response(JSON.stringify({}), { status: 200 }));
    const listeners = new Set<TypingListener>();
    const subscribeTyping = (l: TypingListener) => {
      listeners.add(l);
      return () => listeners.delete(l);
    };
    const notify = (n: TypingNotice) => {
      for (const l of listeners) l(n);
    };
    const view: { current: ReturnType<typeof hooks.useTyping> | null } = { current: null };
    function View() {
      view.current = hooks.useTyping({ client, conversationId: CONVERSATION, myUserId: ME, subscribeTyping });
      return <p>{hooks.typingText(view.current.typing)}</p>;
    }
    const root = mount(<View />);
    await until(() => listeners.size === 1, 'the subscription');
    notify({ conversationId: CONVERSATION, user: { id: ME, name: 'Me' }, state: 'composing' });
    notify({ conversationId: 'another', user: { id: SAM, name: 'Sam' }, state: 'composing' });
    notify({ conversationId: CONVERSATION, user: { id: SAM, name: 'Sam' }, state: 'composing' });
    await until(() => root.textContent === 'Sam is typing…', 'Sam typing');
    notify({ conversationId: CONVERSATION, user: { id: SAM, name: 'Sam' }, state: 'stopped' });
    await until(() => root.textContent === '', 'Sam stopped');

    view.current?.onDraft('H');
    view.current?.onDraft('Hi');
    view.current?.onDraft('Hi S');
    view.current?.onDraft('');
    await until(() => calls.length === 2, 'composing then stopped');
    expect(calls.map((c) => [c.path, c.body])).toEqual([
      [`/v1/conversations/${CONVERSATION}/typing`, { state: 'composing' }],
      [`/v1/conversations/${CONVERSATION}/typing`, { state: 'stopped' }],
    ]);
    expect(hooks.typingText(['Sam', 'Ana', 'Li'])).toBe('Sam, Ana and Li are typing…');
  });
});

describe('answering what a colleague just answered', () => {
  it('asks first, then sends with the same key and confirmAnswered', async () => {
    let asked = false;
    const message = messageFixture({ conversationId: CONVERSATION, body: 'Monday at 10?' });
    const { client, calls } = relay((_path, body) => {
      if ((body as { confirmAnswered?: boolean }).confirmAnswered === true)
        return new Response(JSON.stringify({ message }), { status: 202 });
      asked = true;
      return new Response(
        JSON.stringify({
          error: {
            code: 'ALREADY_ANSWERED',
            message: 'Rita answered this customer 12 seconds ago. Send anyway with confirmAnswered: true.',
            details: { answeredBy: { userId: SAM, name: 'Rita' } },
          },
        }),
        { status: 409 },
      );
    });
    const sent: unknown[] = [];
    const state: { current: ReturnType<typeof sendHooks.useComposerSend> | null } = { current: null };
    const check = {
      blocked: false,
      recipient: '+12025550143',
      inputFor: (body: string) => ({ from: '+12025550100', to: '+12025550143', body }),
      quiet: null,
      scheduleLabel: null,
      recheck: () => undefined,
    };
    const draft = { body: 'Monday at 10?', setBody: () => undefined, setNotice: () => undefined };
    function View() {
      state.current = sendHooks.useComposerSend(client, draft as never, check as never, {
        onSent: (m) => sent.push(m),
        onRefused: () => undefined,
        onQueue: async () => undefined,
        queueBehind: false,
      });
      return <p>{state.current.answered?.message ?? ''}</p>;
    }
    const root = mount(<View />);
    await state.current?.send();
    await until(() => root.textContent === 'Rita answered this customer 12 seconds ago.', 'the question');
    expect(asked).toBe(true);
    expect(sent).toEqual([]);
    await state.current?.answered?.confirm();
    await until(() => sent.length === 1, 'the confirmed send');
    expect(calls).toHaveLength(2);
    expect(calls[1]?.key).toBe(calls[0]?.key);
    expect(calls[1]?.body).toMatchObject({ body: 'Monday at 10?', confirmAnswered: true });
  });
});
