// @vitest-environment node
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type InboxRow, parseInboxPage } from '../../extension/lib/inbox-types.ts';
import { RelayClient } from '../../extension/lib/relay/relay-client.ts';
import { mounter, until } from './preact-dom.ts';

type Preact = typeof import('preact');
let preact: Preact;
let InboxRowItem: typeof import('../../extension/components/InboxRowItem.tsx').InboxRowItem;
let useInbox: typeof import('../../extension/hooks/use-inbox.ts').useInbox;

beforeAll(async () => {
  preact = await import('preact');
  ({ InboxRowItem } = await import('../../extension/components/InboxRowItem.tsx'));
  ({ useInbox } = await import('../../extension/hooks/use-inbox.ts'));
});
const { mount, cleanup } = mounter(() => preact);
afterEach(cleanup);

const ROW = {
  conversationId: '0b8f7c1e-1111-4a5b-9c9d-000000000002',
  senderNumber: '+12025550100',
  contactPhone: '+12025550143',
  contact: { name: 'Dana Whitfield', crm: 'sandbox', objectType: 'contact', id: 'c-1001', recordUrl: null },
  lastMessage: { direction: 'inbound', body: 'Can we move it to Friday?', at: '2026-01-10T10:00:00.000Z' },
  consent: 'opted_in',
  assignee: { userId: '0b8f7c1e-1111-4a5b-9c9d-000000000009', name: 'Sam Rep' },
  unread: true,
  findInCrm: null,
};

describe('the inbox page as the relay sends it', () => {
  it('keeps only http(s) links: a relay cannot make a row open javascript: or a file', () => {
    const page = parseInboxPage({
      rows: [
        { ...ROW, contact: { ...ROW.contact, recordUrl: 'javascript:alert(1)' } },
        { ...ROW, contact: null, findInCrm: { crm: 'hubspot', url: 'file:///etc/passwd' } },
        { ...ROW, contact: { ...ROW.contact, recordUrl: 'https://app.hubspot.com/contacts/1/record/0-1/2' } },
      ],
      unreadCount: 3,
      nextCursor: null,
    });
    expect(page.rows[0]?.contact?.recordUrl).toBeNull();
    expect(page.rows[1]?.findInCrm).toBeNull();
    expect(page.rows[2]?.contact?.recordUrl).toBe('https://app.hubspot.com/contacts/1/record/0-1/2');
    expect(page.unreadCount).toBe(3);
  });

  it('refuses a page that is not one', () => {
    expect(() => parseInboxPage({ rows: [{ conversationId: 1 }] })).toThrow();
  });
});

describe('an inbox row', () => {
  const row = (over: Partial<InboxRow> = {}): InboxRow =>
    ({
      ...parseInboxPage({ rows: [ROW], unreadCount: 1, nextCursor: null }).rows[0],
      ...over,
    }) as InboxRow;

  it('opens its record, shows unread, and offers "Mark unread" only once read', async () => {
    const opened: string[] = [];
    let marked = 0;
    const url = 'http://127.0.0.1:8787/sandbox/crm/contacts/c-1001';
    const unread = mount(
      <InboxRowItem
        row={row({ contact: { name: 'Dana Whitfield', recordUrl: url } })}
        onOpen={(u) => opened.push(u)}
        onMarkUnread={() => marked++}
      />,
    );
    expect(unread.querySelector('li')?.getAttribute('data-unread')).toBe('true');
    expect(unread.textContent).toContain('Can we move it to Friday?');
    expect(unread.textContent).toContain('Sam Rep');
    expect(unread.querySelector('button.link')).toBeNull();
    (unread.querySelector('button.open') as HTMLButtonElement).click();
    expect(opened).toEqual([url]);
    const read = mount(
      <InboxRowItem row={row({ unread: false })} onOpen={() => undefined} onMarkUnread={() => marked++} />,
    );
    (read.querySelector('button.link') as HTMLButtonElement).click();
    expect(marked).toBe(1);
  });

  it('offers to find or create the contact when the number has no record', () => {
    const root = mount(
      <InboxRowItem
        row={row({
          contact: null,
          contactPhone: '+1202•••0143',
          findInCrm: { crm: 'hubspot', url: 'https://app.hubspot.com/contacts/1/objects/0-1/views/all/list' },
        })}
        onOpen={() => undefined}
        onMarkUnread={() => undefined}
      />,
    );
    expect((root.querySelector('button.open') as HTMLButtonElement).disabled).toBe(true);
    expect(root.querySelector('a')?.textContent).toBe('Find or create in HubSpot');
    expect(root.textContent).toContain('+1202•••0143');
  });
});

describe('the inbox list', () => {
  it('asks for the filter and search, pages on, and marks a row unread at the relay', async () => {
    const calls: string[] = [];
    const client = new RelayClient({
      baseUrl: 'http://relay.test',
      apiKey: 'k',
      fetch: async (url, init) => {
        const u = new URL(url);
        calls.push(`${init.method} ${u.pathname}${u.search}`);
        const cursor = u.searchParams.get('cursor');
        const body =
          init.method === 'POST'
            ? { conversationId: ROW.conversationId, assignee: null, unread: true }
            : {
                rows: [
                  { ...ROW, conversationId: cursor === null ? ROW.conversationId : crypto.randomUUID() },
                ],
                unreadCount: 1,
                nextCursor: cursor === null ? 'next' : null,
              };
        return new Response(JSON.stringify(body), { status: 200 });
      },
    });
    const seen: { state: ReturnType<typeof useInbox> | null } = { state: null };
    function View({ search }: { search: string }) {
      seen.state = useInbox(client, 'all', search, () => () => undefined);
      return null;
    }
    const root = mount(<View search="" />);
    await until(() => seen.state?.rows.length === 1, 'the first page');
    expect(calls[0]).toBe('GET /v1/inbox?filter=all&limit=50');
    seen.state?.loadMore();
    await until(() => seen.state?.rows.length === 2, 'the second page');
    expect(seen.state?.hasMore).toBe(false);
    await seen.state?.markUnread(ROW.conversationId);
    expect(calls).toContain(`POST /v1/conversations/${ROW.conversationId}/unread`);
    preact.render(<View search="Dana" />, root);
    await until(() => calls.some((c) => c.includes('q=Dana')), 'the search');
  });
});

describe('a refusal the inbox or panel shows', () => {
  it('names a paused rep’s refusal plainly, with the relay’s sentence and code', async () => {
    const { ErrorNotice } = await import('../../extension/components/ErrorNotice.tsx');
    const { RelayError } = await import('../../extension/lib/relay/relay-client.ts');
    const error = new RelayError(423, {
      code: 'SENDING_PAUSED',
      message: 'Your sending is paused since 2026-12-05T16:00:00.000Z: an alert found unusual sending.',
      details: { pausedAt: '2026-12-05T16:00:00.000Z' },
    });
    const root = mount(<ErrorNotice error={error} />);
    expect(root.textContent).toContain('Your sending is paused for a review');
    expect(root.textContent).toContain('an alert found unusual sending');
    expect(root.textContent).toContain('SENDING_PAUSED');
  });

  it('links a rep who has not acknowledged the texting policy to it, on the relay that refused', async () => {
    const { ErrorNotice } = await import('../../extension/components/ErrorNotice.tsx');
    const { RelayError } = await import('../../extension/lib/relay/relay-client.ts');
    const error = new RelayError(
      403,
      {
        code: 'POLICY_NOT_ACKNOWLEDGED',
        message: 'You have not yet acknowledged your organisation’s texting policy.',
        details: { reason: 'never', version: 1, policy: '/v1/policy', readAt: '/admin#/policy' },
      },
      null,
      'https://relay.acme.example',
    );
    const root = mount(<ErrorNotice error={error} />);
    expect(root.textContent).toContain('Read your texting policy first');
    expect(root.querySelector('a')?.getAttribute('href')).toBe('https://relay.acme.example/admin#/policy');
    expect(root.textContent).not.toContain('readAt');
    // A page elsewhere is never linked: only a path on the relay that answered.
    const elsewhere = new RelayError(
      403,
      { code: 'POLICY_NOT_ACKNOWLEDGED', message: 'x', details: { readAt: '//evil.example/x' } },
      null,
      'https://relay.acme.example',
    );
    expect(mount(<ErrorNotice error={elsewhere} />).querySelector('a')).toBeNull();
  });
});
