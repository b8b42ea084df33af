// @vitest-environment node
import type { ComponentChild } from 'preact';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ContactRef } from '../../extension/hosts/types.ts';
import { RelayClient, type SendMessageInput } from '../../extension/lib/relay/relay-client.ts';
import type { ContactLookup, Message } from '../../extension/lib/relay-types.ts';
import { mergeValues } from '../../extension/lib/templates.ts';
import { messageFixture } from './fixtures.ts';
// Preact renders into a linkedom document (installed by this import): no browser needed.
import { dom } from './preact-dom.ts';

type Preact = typeof import('preact');
let preact: Preact;
let Composer: typeof import('../../extension/components/Composer.tsx').Composer;
let ConsentBadge: typeof import('../../extension/components/ConsentBadge.tsx').ConsentBadge;
let Thread: typeof import('../../extension/components/Thread.tsx').Thread;
let ContactActions: typeof import('../../extension/components/ContactActions.tsx').ContactActions;
let ScheduledTexts: typeof import('../../extension/components/ScheduledTexts.tsx').ScheduledTexts;

beforeAll(async () => {
  preact = await import('preact');
  ({ Composer } = await import('../../extension/components/Composer.tsx'));
  ({ ConsentBadge } = await import('../../extension/components/ConsentBadge.tsx'));
  ({ Thread } = await import('../../extension/components/Thread.tsx'));
  ({ ContactActions } = await import('../../extension/components/ContactActions.tsx'));
  ({ ScheduledTexts } = await import('../../extension/components/ScheduledTexts.tsx'));
});

let root: HTMLElement | null = null;
afterEach(() => {
  if (root) preact.render(null, root);
  root?.remove();
  root = null;
});

function mount(node: ComponentChild): HTMLElement {
  root = document.createElement('div');
  document.body.appendChild(root);
  preact.render(node, root);
  return root;
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  read: () => T | null | undefined | false,
  what: string,
  timeoutMs = 2000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick(10);
  }
}

function type(el: Element, value: string): void {
  (el as HTMLTextAreaElement).value = value;
  el.dispatchEvent(new dom.window.Event('input', { bubbles: true }));
}

function click(el: Element): void {
  el.dispatchEvent(new dom.window.Event('click', { bubbles: true }));
}

const q = (r: Element, selector: string): HTMLElement | null =>
  r.querySelector(selector) as HTMLElement | null;

const REF: ContactRef = { crm: 'hubspot', objectType: 'contact', id: '51', portalId: '8675309' };
const FROM = '+15550001111';
const TO = '+15125550100';

interface Route {
  status: number;
  body: unknown;
}

/** A relay for the composer: preflight and send answers chosen per test, every request recorded. */
function fakeRelay(answers: {
  preflight?: (input: SendMessageInput) => Route;
  send?: (input: SendMessageInput) => Route;
}) {
  const calls: Array<{ path: string; body: SendMessageInput; key: string | undefined }> = [];
  const client = new RelayClient({
    baseUrl: 'http://relay.test',
    apiKey: 'k',
    fetch: async (url, init) => {
      const path = new URL(url).pathname;
      const body = JSON.parse(String(init.body)) as SendMessageInput;
      const headers = init.headers as Record<string, string>;
      calls.push({ path, body, key: headers['Idempotency-Key'] });
      const route =
        path === '/v1/messages/preflight'
          ? (answers.preflight?.(body) ?? { status: 200, body: allowed(body.body) })
          : (answers.send?.(body) ?? { status: 202, body: { message: sentMessage(body.body) } });
      if (route.status === 0) throw new TypeError('Failed to fetch');
      return new Response(JSON.stringify(route.body), { status: route.status });
    },
  });
  return { client, calls };
}

function allowed(text: string, patch: Record<string, unknown> = {}) {
  return {
    allowed: true,
    refusals: [],
    finalText: text,
    segments: 1,
    encoding: 'GSM-7',
    recipientLocalTime: { zone: 'America/Chicago', zoneSource: 'area_code', localTime: '2026-11-22T10:00' },
    nextAllowedAt: null,
    schedulable: false,
    ...patch,
  };
}

function sentMessage(body: string): Message {
  const at = new Date().toISOString();
  return messageFixture({ from: FROM, to: TO, body, sentBy: 'Sam Rep', createdAt: at, updatedAt: at });
}

function composer(
  client: RelayClient,
  patch: Partial<Pick<Parameters<typeof Composer>[0], 'blockedReason' | 'templates' | 'queueBehind'>> = {},
) {
  const props = {
    onDraftChange: vi.fn<(body: string) => void>(),
    onSent: vi.fn<(message: Message) => void>(),
    onRefused: vi.fn(),
    onQueue: vi.fn(async (_input: SendMessageInput, _key: string, _error: unknown) => undefined),
    client,
    contactRef: REF,
    to: TO,
    from: FROM,
    blockedReason: null,
    templates: [],
    mergeValues: mergeValues({ name: 'Ada Lovelace' }, { displayName: 'Sam Rep', orgName: 'Acme' }),
    initialDraft: '',
    queueBehind: false,
    ...patch,
  };
  const r = mount(<Composer {...props} />);
  const draft = q(r, '#draft') as HTMLTextAreaElement;
  return { r, props, draft, send: () => q(r, '[data-testid=send]') as HTMLButtonElement };
}

describe('Composer', () => {
  it.each([
    ['plain', 'x'.repeat(2000), 'Too long: 2,000 characters; at most 1,600 fit in one text'],
    [
      'with an emoji',
      `${'é'.repeat(799)}😀`,
      'Too long: 800 characters; at most 737 fit in one text with emoji or other special characters',
    ],
  ])(
    'says how long a %s text is and how much one text holds, and does not send it',
    async (_kind, text, said) => {
      const { client, calls } = fakeRelay({});
      const { r, draft, send } = composer(client);
      type(draft, text);
      const counter = await until(() => q(r, '#segment-count.over'), 'the over-long counter');
      expect(counter.textContent).toContain(said);
      expect(send().disabled).toBe(true);
      expect(calls).toHaveLength(0);
    },
  );

  it('highlights the card number the relay flags, keeps send disabled, and removes it on request', async () => {
    const text = 'My card is 4111 1111 1111 1111 ok';
    const start = text.indexOf('4111');
    const { client, calls } = fakeRelay({
      preflight: (input) => ({
        status: 200,
        body: input.body.includes('4111')
          ? allowed(input.body, {
              allowed: false,
              refusals: [
                {
                  code: 'SENSITIVE_CONTENT',
                  message: 'The text contains card data',
                  details: { findings: [{ kind: 'card', start, end: start + 19 }] },
                },
              ],
            })
          : allowed(input.body),
      }),
    });
    const { r, draft, send } = composer(client);
    type(draft, text);
    const mark = await until(() => q(r, 'mark[data-testid=sensitive-span]'), 'the highlighted span');
    expect(mark.textContent).toBe('4111 1111 1111 1111');
    expect(mark.getAttribute('data-kind')).toBe('card');
    expect(send().disabled).toBe(true);
    expect(calls.filter((c) => c.path === '/v1/messages')).toHaveLength(0);

    click(
      await until(
        () => [...r.querySelectorAll('button')].find((b) => b.textContent?.includes('Remove')),
        'remove',
      ),
    );
    await until(() => draft.value === 'My card is ok', 'the span removed from the draft');
    await until(() => !q(r, '[data-testid=sensitive-block]'), 'the block to clear');
  });

  it('offers a send scheduled for the customer’s morning in quiet hours and sends it with sendAt', async () => {
    const morning = '2026-11-23T14:00:00.000Z';
    const { client, calls } = fakeRelay({
      preflight: (input) => ({
        status: 200,
        body: allowed(input.body, {
          allowed: false,
          refusals: [{ code: 'QUIET_HOURS', message: 'It is 22:10 for the recipient', details: {} }],
          nextAllowedAt: morning,
          schedulable: true,
        }),
      }),
    });
    const { r, draft, send, props } = composer(client);
    type(draft, 'See you tomorrow');
    await until(() => q(r, '[data-testid=quiet-hours]'), 'the quiet-hours notice');
    // The customer's morning, in their zone (with the weekday when it is not today there).
    await until(
      () => /^Schedule for .*8:00.*their time$/.test(send().textContent ?? ''),
      'the schedule button',
    );
    expect(send().disabled).toBe(false);
    // linkedom does not submit a form from its submit button's click: submit it as the click would.
    q(r, 'form')?.dispatchEvent(new dom.window.Event('submit', { bubbles: true, cancelable: true }));
    await until(() => props.onSent.mock.calls.length === 1, 'the scheduled send');
    const sent = calls.find((c) => c.path === '/v1/messages');
    expect(sent?.body).toEqual({
      from: FROM,
      to: TO,
      body: 'See you tomorrow',
      contact: { crm: 'hubspot', objectType: 'contact', id: '51' },
      sendAt: morning,
    });
    expect(q(r, '[data-testid=composer-notice]')?.textContent).toMatch(/^Scheduled: .*8:00/);
  });

  it('shows the exact text the relay will send when it adds a first-contact notice', async () => {
    const { client } = fakeRelay({
      preflight: (input) => ({
        status: 200,
        body: allowed(input.body, { finalText: `Acme: ${input.body} Reply STOP to opt out.` }),
      }),
    });
    const { r, draft } = composer(client);
    type(draft, 'Hello Ada');
    const final = await until(() => q(r, '[data-testid=final-text]'), 'the final text');
    expect(final.textContent).toContain('Acme: Hello Ada Reply STOP to opt out.');
  });

  it('keeps a text it could not deliver to the relay in the outbox under the same key', async () => {
    const { client, calls } = fakeRelay({ send: () => ({ status: 0, body: null }) });
    const { r, draft, send, props } = composer(client);
    type(draft, 'Are you there?');
    await until(() => !send().disabled, 'send enabled');
    // linkedom has no KeyboardEvent: a plain event with the fields the handler reads.
    draft.dispatchEvent(
      Object.assign(new dom.window.Event('keydown', { bubbles: true }), { key: 'Enter', ctrlKey: true }),
    );
    await until(() => props.onQueue.mock.calls.length === 1, 'the text queued');
    const [input, key] = props.onQueue.mock.calls[0] ?? [];
    expect(input?.body).toBe('Are you there?');
    expect(key).toBe(calls.find((c) => c.path === '/v1/messages')?.key);
    expect(draft.value).toBe('');
    expect(q(r, '[data-testid=composer-notice]')?.textContent).toMatch(/waiting/);
    expect(props.onSent).not.toHaveBeenCalled();
  });

  it('queues a new text behind earlier ones still waiting, so they arrive in order', async () => {
    const { client, calls } = fakeRelay({});
    const { r, draft, send, props } = composer(client, { queueBehind: true });
    type(draft, 'Second thought');
    await until(() => !send().disabled, 'send enabled');
    q(r, 'form')?.dispatchEvent(new dom.window.Event('submit', { bubbles: true, cancelable: true }));
    await until(() => props.onQueue.mock.calls.length === 1, 'the text queued');
    expect(props.onQueue.mock.calls[0]?.[2]).toBeNull();
    expect(calls.filter((c) => c.path === '/v1/messages')).toHaveLength(0);
    const notice = await until(() => q(r, '[data-testid=composer-notice]'), 'the queued notice');
    expect(notice.textContent).toMatch(/Queued behind an earlier text/);
  });

  it('asks the relay again after it refuses a send, so a new verdict (quiet hours now) shows', async () => {
    let late = false;
    const { client, calls } = fakeRelay({
      preflight: (input) => ({
        status: 200,
        body: late
          ? allowed(input.body, {
              allowed: false,
              refusals: [{ code: 'QUIET_HOURS', message: 'Too late now', details: {} }],
              nextAllowedAt: '2026-11-23T14:00:00.000Z',
              schedulable: true,
            })
          : allowed(input.body),
      }),
      send: () => {
        late = true;
        return {
          status: 422,
          body: { error: { code: 'QUIET_HOURS', message: 'It just turned 9 pm there', details: {} } },
        };
      },
    });
    const { draft, send } = composer(client);
    type(draft, 'Quick question');
    await until(() => calls.some((c) => c.path === '/v1/messages/preflight') && !send().disabled, 'checked');
    draft.dispatchEvent(
      Object.assign(new dom.window.Event('keydown', { bubbles: true }), { key: 'Enter', ctrlKey: true }),
    );
    await until(() => /^Schedule for/.test(send().textContent ?? ''), 'the schedule offer after the refusal');
  });

  it('locks an opted-out contact: the reason shows and nothing can be typed or sent', async () => {
    const { client, calls } = fakeRelay({});
    const { r, draft, send } = composer(client, { blockedReason: 'This contact opted out of texts.' });
    expect(q(r, '[data-testid=blocked-reason]')?.textContent).toBe('This contact opted out of texts.');
    expect(draft.disabled).toBe(true);
    expect(send().disabled).toBe(true);
    await tick(400);
    expect(calls).toHaveLength(0);
  });

  it('fills a template from the contact and refuses to send a field the CRM has no value for', async () => {
    const { client } = fakeRelay({});
    const { r, draft, send } = composer(client, {
      templates: [
        { id: 't1', name: 'Greeting', body: 'Hi {{firstName}}, {{repName}} here.' },
        { id: 't2', name: 'Formal', body: 'Dear {{title}} {{lastName}}' },
      ],
    });
    const select = q(r, '#template') as HTMLSelectElement;
    // linkedom's select has a read-only value: give it the one a rep's choice would set.
    let chosen = '';
    Object.defineProperty(select, 'value', { get: () => chosen, set: (v: string) => (chosen = v) });
    const insert = (): void =>
      click([...r.querySelectorAll('button')].find((b) => b.textContent === 'Insert') as Element);
    select.value = 't1';
    select.dispatchEvent(new dom.window.Event('change', { bubbles: true }));
    await tick(10);
    // Choosing alone inserts nothing (arrow keys pass over options): the Insert button does.
    expect(draft.value).toBe('');
    insert();
    await until(() => draft.value === 'Hi Ada, Sam Rep here.', 'the filled template');
    type(draft, '');
    await tick(20);
    select.value = 't2';
    select.dispatchEvent(new dom.window.Event('change', { bubbles: true }));
    await tick(10);
    insert();
    await until(
      () => draft.value === 'Dear {{title}} Lovelace',
      `the template with a gap (draft: ${draft.value})`,
    );
    await until(() => q(r, '[data-testid=unfilled-fields]'), 'the unfilled notice');
    expect(send().disabled).toBe(true);
  });
});

describe('ConsentBadge', () => {
  const consent: ContactLookup['consent'] = {
    status: 'opted_in',
    updatedAt: '2026-11-01T10:00:00Z',
    source: 'verbal',
    evidence: {
      kind: 'opt_in',
      source: 'verbal',
      evidence: 'On the call',
      actor: 'Sam',
      at: '2026-11-01T10:00:00Z',
    },
    pendingOptIn: null,
    review: null,
  };

  it('shows the evidence on hover (title) and on click for keyboard users', async () => {
    const r = mount(<ConsentBadge consent={consent} />);
    const button = q(r, '[data-consent]') as HTMLButtonElement;
    expect(button.textContent).toBe('Opted in');
    expect(button.getAttribute('title')).toContain('On the call');
    expect(q(r, '[data-testid=consent-evidence]')).toBeNull();
    click(button);
    const evidence = await until(() => q(r, '[data-testid=consent-evidence]'), 'the evidence');
    expect(evidence.textContent).toContain('recorded by Sam');
    expect(button.getAttribute('aria-expanded')).toBe('true');
  });
});

describe('Thread', () => {
  it('marks where its messages came from and shows queued texts with their state and actions', async () => {
    const onRetry = vi.fn();
    const onDiscard = vi.fn();
    const r = mount(
      <Thread
        messages={[
          sentMessage('Hello'),
          messageFixture({ id: 'later', body: 'See you', scheduledFor: '2026-11-23T14:00:00.000Z' }),
        ]}
        pending={[
          { key: 'k1', body: 'Waiting one', createdAt: Date.now(), state: 'waiting', error: null },
          {
            key: 'k2',
            body: 'Refused one',
            createdAt: Date.now(),
            state: 'failed',
            error: { code: 'NO_CONSENT', message: 'No opt-in' },
          },
        ]}
        source="cache"
        zone="America/Chicago"
        hasOlder={false}
        loadingOlder={false}
        onLoadOlder={() => undefined}
        onRetry={onRetry}
        onDiscard={onDiscard}
      />,
    );
    expect(q(r, '[data-testid=thread]')?.getAttribute('data-source')).toBe('cache');
    // A text held for the customer's morning says when it goes, in their time.
    expect(q(r, 'li[data-message-id=later] .meta')?.textContent).toMatch(/Scheduled for .*8:00.* their time/);
    expect(q(r, 'li[data-outbox=waiting]')?.textContent).toContain('Waiting for connection');
    const failed = q(r, 'li[data-outbox=failed]') as HTMLElement;
    expect(failed.textContent).toContain('No opt-in (NO_CONSENT)');
    const [retry, discard] = [...failed.querySelectorAll('button')];
    click(retry as Element);
    click(discard as Element);
    expect(onRetry).toHaveBeenCalledWith('k2');
    expect(onDiscard).toHaveBeenCalledWith('k2');
  });
});

describe('ContactActions', () => {
  function actions(open: 'none' | 'escalate' | 'opt-in', answer: { status: number; body: unknown }) {
    const calls: Array<{ path: string; body: unknown }> = [];
    const client = new RelayClient({
      baseUrl: 'http://relay.test',
      apiKey: 'k',
      fetch: async (url, init) => {
        calls.push({ path: new URL(url).pathname, body: JSON.parse(String(init.body)) });
        return new Response(JSON.stringify(answer.body), { status: answer.status });
      },
    });
    const onOpen = vi.fn();
    const onConsentRecorded = vi.fn();
    const r = mount(
      <ContactActions
        client={client}
        contactRef={REF}
        contactName="Ada Lovelace"
        phone={TO}
        canRecordConsent
        canEscalate
        optedIn={false}
        optedOut={false}
        open={open}
        onOpen={onOpen}
        onConsentRecorded={onConsentRecorded}
        payment={null}
        thread={{ messages: [], payments: [] }}
      />,
    );
    return { r, calls, onOpen, onConsentRecorded };
  }

  it('logs a call task on the CRM record with the rep’s note', async () => {
    const { r, calls } = actions('escalate', { status: 201, body: { activity: { id: 't1', kind: 'call' } } });
    type(q(r, '#escalate-note') as Element, '  Wants to talk about the invoice ');
    await tick(10);
    q(r, 'form')?.dispatchEvent(new dom.window.Event('submit', { bubbles: true, cancelable: true }));
    const done = await until(() => q(r, '[data-testid=escalated]'), 'the confirmation');
    expect(done.textContent).toBe('A call task for Ada Lovelace is in the CRM.');
    expect(calls).toEqual([
      {
        path: '/v1/contacts/escalate',
        body: {
          crm: 'hubspot',
          objectType: 'contact',
          id: '51',
          kind: 'call',
          note: 'Wants to talk about the invoice',
        },
      },
    ]);
  });

  it('shows the relay’s refusal of an escalation and keeps the note', async () => {
    const { r } = actions('escalate', {
      status: 409,
      body: { error: { code: 'CRM_NOT_CONNECTED', message: 'hubspot is not connected', details: null } },
    });
    type(q(r, '#escalate-note') as Element, 'Call back');
    await tick(10);
    q(r, 'form')?.dispatchEvent(new dom.window.Event('submit', { bubbles: true, cancelable: true }));
    const alert = await until(() => q(r, '[role=alert]'), 'the error');
    expect(alert.getAttribute('data-error-code')).toBe('CRM_NOT_CONNECTED');
    expect((q(r, '#escalate-note') as HTMLTextAreaElement).value).toBe('Call back');
  });

  it('records an opt-in with its evidence, and needs evidence to do so', async () => {
    const { r, calls, onConsentRecorded } = actions('opt-in', {
      status: 202,
      body: { phone: TO, status: 'unknown', since: null, pendingConfirmation: true },
    });
    const submit = q(r, 'button[type=submit]') as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    type(q(r, '#optin-evidence') as Element, 'Agreed on the call of 12 May');
    await until(() => !(q(r, 'button[type=submit]') as HTMLButtonElement).disabled, 'submit enabled');
    q(r, 'form')?.dispatchEvent(new dom.window.Event('submit', { bubbles: true, cancelable: true }));
    await until(() => onConsentRecorded.mock.calls.length === 1, 'the callback');
    expect(onConsentRecorded.mock.calls[0]?.[0]).toEqual({ status: 'unknown', pendingConfirmation: true });
    expect(calls[0]).toEqual({
      path: '/v1/consent',
      body: { phone: TO, kind: 'opt_in', source: 'verbal', evidence: 'Agreed on the call of 12 May' },
    });
  });
});

describe('ScheduledTexts', () => {
  const at = '2030-01-02T13:00:00.000Z';
  const scheduled = (id: string, sentBy: string | null) =>
    messageFixture({ id, body: `text ${id}`, status: 'queued', scheduledFor: at, sentBy });
  const state = (messages: Message[]) => ({
    scheduled: messages,
    busy: null,
    error: null,
    changes: 0,
    cancel: vi.fn(),
    move: vi.fn(),
  });
  const buttons = (item: Element | null) =>
    [...(item?.querySelectorAll('button') ?? [])].map((b) => b.textContent);

  it("offers Move and Cancel only on the texts this rep may change, and names the other texts' sender", () => {
    const texts = state([scheduled('mine', 'sam@acme.test'), scheduled('theirs', 'kim@acme.test')]);
    const el = mount(
      <ScheduledTexts
        state={texts}
        zone="America/New_York"
        canChange={(m) => m.sentBy === 'sam@acme.test'}
      />,
    );
    expect(buttons(el.querySelector('[data-message-id="mine"]'))).toEqual([
      'Send at another time',
      'Cancel text',
    ]);
    const theirs = el.querySelector('[data-message-id="theirs"]');
    expect(buttons(theirs)).toEqual([]);
    expect(theirs?.querySelector('[data-testid=scheduled-by]')?.textContent).toBe(
      'Scheduled by kim@acme.test: only they or a manager can change it.',
    );
  });

  it('offers them on every text to a manager', () => {
    const texts = state([scheduled('a', 'kim@acme.test'), scheduled('b', null)]);
    const el = mount(<ScheduledTexts state={texts} zone={null} canChange={() => true} />);
    expect(el.querySelectorAll('[data-testid=scheduled-by]')).toHaveLength(0);
    expect(el.querySelectorAll('button')).toHaveLength(4);
  });
});
