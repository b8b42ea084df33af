import { useCallback, useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { useInbox } from '../hooks/use-inbox.ts';
import { usePanelConnection } from '../hooks/use-panel-connection.ts';
import { usePanelSettings } from '../hooks/use-panel-settings.ts';
import type { InboxFilter } from '../lib/inbox-types.ts';
import { showUnreadBadge } from '../lib/unread-badge.ts';
import { ErrorNotice } from './ErrorNotice.tsx';
import { InboxRowItem } from './InboxRowItem.tsx';
import { NotConfigured } from './NotConfigured.tsx';

const FILTERS: { id: InboxFilter; label: string }[] = [
  { id: 'mine', label: 'Mine' },
  { id: 'unassigned', label: 'Unassigned' },
  { id: 'all', label: 'All' },
];

/** Whether this page is the toolbar popup (it closes once a record opens) rather than a tab. */
function inPopup(): boolean {
  try {
    return browser.extension.getViews({ type: 'popup' }).includes(window);
  } catch {
    // getViews is missing where the page is not an extension view: treat it as a tab
    return false;
  }
}

/** Opens a CRM record in the current tab: the panel docks on it there. */
async function openInCurrentTab(url: string): Promise<void> {
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  if (tab?.id === undefined) await browser.tabs.create({ url });
  else await browser.tabs.update(tab.id, { url });
  if (inPopup()) window.close();
}

/**
 * The inbox (issue #19): every conversation waiting for the signed-in person across contacts,
 * unread first; Mine, Unassigned and All as the role allows; search by name or number. Opening a
 * row opens the contact's CRM record in the current tab, where the panel shows (and reads) it.
 */
export function InboxApp() {
  const { settings, settingsError } = usePanelSettings();
  const { client, live, me } = usePanelConnection(settings);
  const [filter, setFilter] = useState<InboxFilter>('mine');
  const [search, setSearch] = useState('');
  const [openError, setOpenError] = useState<unknown>(null);
  const subscribeChanges = useCallback(
    (listener: () => void) => {
      const stopMessages = live.subscribe(() => listener());
      const stopInbox = live.subscribeInbox(listener);
      return () => {
        stopMessages();
        stopInbox();
      };
    },
    [live.subscribe, live.subscribeInbox],
  );
  const inbox = useInbox(client, filter, search, subscribeChanges);
  // A rep sees only their own conversations: the other lists are the org's.
  const seesAll = me?.permissions.includes('conversations.view_all') ?? false;
  const filters = seesAll ? FILTERS : FILTERS.slice(0, 1);

  useEffect(() => {
    if (!inbox.loading && inbox.error === null) showUnreadBadge(inbox.unreadCount);
  }, [inbox.loading, inbox.error, inbox.unreadCount]);

  if (settingsError !== null) return <ErrorNotice error={settingsError} />;
  if (!settings) return <p class="section muted">Loading…</p>;
  if (!client) return <NotConfigured signedOut={settings.signedOut} />;

  const open = (url: string): void => {
    openInCurrentTab(url).catch(setOpenError);
  };
  return (
    <main class="inbox" data-unread-count={inbox.unreadCount}>
      <header class="inbox-head">
        <h1>Inbox</h1>
        <span class="muted" data-testid="unread-count" aria-live="polite">
          {inbox.unreadCount === 0 ? 'Nothing unread' : `${inbox.unreadCount} unread`}
        </span>
      </header>
      {filters.length > 1 && (
        <fieldset class="filters">
          <legend class="visually-hidden">Which conversations</legend>
          {filters.map((f) => (
            <button
              type="button"
              key={f.id}
              class={f.id === filter ? 'primary' : ''}
              aria-pressed={f.id === filter}
              onClick={() => setFilter(f.id)}
            >
              {f.label}
            </button>
          ))}
        </fieldset>
      )}
      <label class="search">
        <span class="visually-hidden">Search by name or number</span>
        <input
          type="search"
          placeholder="Search by name or number"
          value={search}
          maxLength={80}
          onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      {inbox.error !== null && <ErrorNotice error={inbox.error} onRetry={inbox.refresh} />}
      {openError !== null && <ErrorNotice error={openError} />}
      <InboxList inbox={inbox} filter={filter} searching={search.trim() !== ''} onOpen={open} />
    </main>
  );
}

function InboxList({
  inbox,
  filter,
  searching,
  onOpen,
}: {
  inbox: ReturnType<typeof useInbox>;
  filter: InboxFilter;
  searching: boolean;
  onOpen(url: string): void;
}) {
  if (inbox.loading && inbox.rows.length === 0) return <p class="muted section">Loading conversations…</p>;
  if (inbox.rows.length === 0)
    return (
      <p class="muted section" data-testid="inbox-empty">
        {searching
          ? 'No conversation matches this search.'
          : filter === 'mine'
            ? 'Nothing here yet: replies routed to you, and conversations you text, show up here.'
            : filter === 'unassigned'
              ? 'No conversation waits in the queue.'
              : 'No conversations yet.'}
      </p>
    );
  return (
    <>
      <ul class="inbox-rows" aria-label="Conversations" onKeyDown={moveFocus}>
        {inbox.rows.map((row) => (
          <InboxRowItem
            key={row.conversationId}
            row={row}
            onOpen={onOpen}
            onMarkUnread={() => void inbox.markUnread(row.conversationId)}
          />
        ))}
      </ul>
      {inbox.hasMore && (
        <button type="button" class="more" disabled={inbox.loadingMore} onClick={inbox.loadMore}>
          {inbox.loadingMore ? 'Loading…' : 'Show more'}
        </button>
      )}
    </>
  );
}

/** Up and Down move between the rows' open buttons, as in a mail list. */
function moveFocus(event: KeyboardEvent): void {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  const list = event.currentTarget as HTMLElement;
  const buttons = [...list.querySelectorAll<HTMLButtonElement>('button.open')];
  const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
  const next = buttons[Math.min(Math.max(at + (event.key === 'ArrowDown' ? 1 : -1), 0), buttons.length - 1)];
  if (next) {
    event.preventDefault();
    next.focus();
  }
}
