import { browser } from 'wxt/browser';

/** The extension icon's badge: how many conversations wait for the signed-in person (none: no badge). */
export function showUnreadBadge(count: number): void {
  const text = count <= 0 ? '' : count > 99 ? '99+' : String(count);
  // Only extension pages and the background have the toolbar action.
  const action = browser.action;
  if (action === undefined) return;
  Promise.all([
    action.setBadgeText({ text }),
    action.setBadgeBackgroundColor({ color: '#c2410c' }),
    action.setTitle({ title: count > 0 ? `CRM Texting: ${count} unread` : 'CRM Texting: inbox' }),
  ]).catch((error: unknown) => console.warn('[crm-texting] could not update the unread badge', error));
}
