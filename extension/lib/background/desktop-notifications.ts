import { browser } from 'wxt/browser';
import type { InboundNotification } from './inbound-notifier.ts';

/** Session-storage prefix of the CRM page a notification opens, by message id. */
const NOTIFICATION_PAGE = 'notificationPage:';

/** The notification of a message is `inbound:<message id>`; its page is kept under the message id. */
function pageKeyOf(notificationId: string): string {
  return `${NOTIFICATION_PAGE}${notificationId.replace(/^inbound:/, '')}`;
}

/** Shows one inbound text as a desktop notification and remembers the CRM page a click opens. */
export function showInboundNotification(n: InboundNotification): void {
  browser.notifications
    .create(`inbound:${n.id}`, {
      type: 'basic',
      iconUrl: browser.runtime.getURL('/icon/128.png'),
      title: n.title,
      message: n.message,
      ...(n.pageUrl ? { contextMessage: 'Click to open the contact' } : {}),
    })
    .then(() => {
      // Kept in session storage: the worker is usually asleep by the time the rep clicks.
      if (n.pageUrl) return browser.storage.session.set({ [`${NOTIFICATION_PAGE}${n.id}`]: n.pageUrl });
      return undefined;
    })
    .catch((error: unknown) => console.warn('[crm-texting] notification failed', error));
}

async function openNotifiedPage(notificationId: string): Promise<void> {
  const key = pageKeyOf(notificationId);
  const pageUrl = (await browser.storage.session.get(key))[key];
  await browser.storage.session.remove(key);
  await browser.notifications.clear(notificationId);
  if (typeof pageUrl === 'string' && /^https?:\/\//.test(pageUrl))
    await browser.tabs.create({ url: pageUrl });
}

/** A click on a notification opens the contact's CRM page remembered for it, if any. */
export function notificationClicked(notificationId: string): void {
  openNotifiedPage(notificationId).catch((error: unknown) =>
    console.warn('[crm-texting] could not open the notified contact', error),
  );
}

/** A notification closed unclicked: the page remembered for it is no longer needed. */
export function notificationClosed(notificationId: string): void {
  // best effort: the page only serves a click that can no longer come, and session storage ends with the browser.
  browser.storage.session.remove(pageKeyOf(notificationId)).catch(() => undefined);
}
