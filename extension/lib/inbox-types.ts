import { arr, isRecord, obj, oneOf, str, strOrNull } from './validate.ts';

export type InboxFilter = 'mine' | 'unassigned' | 'all';
export type InboxConsent = 'opted_in' | 'opted_out' | 'unknown';

/** One conversation as the inbox lists it (GET /v1/inbox). */
export interface InboxRow {
  conversationId: string;
  /** The customer's number; masked for a rep without pii.view. */
  contactPhone: string;
  contact: { name: string | null; recordUrl: string | null } | null;
  lastMessage: { direction: 'inbound' | 'outbound'; body: string; at: string } | null;
  consent: InboxConsent;
  assignee: { userId: string; name: string | null } | null;
  unread: boolean;
  /** No CRM record is known for this number: where to find or create one. */
  findInCrm: { crm: string; url: string } | null;
}

export interface InboxPage {
  rows: InboxRow[];
  unreadCount: number;
  nextCursor: string | null;
}

/** A URL the inbox may open in a tab: http(s) only, whatever a relay sends. */
function pageUrl(value: unknown, path: string): string | null {
  const raw = strOrNull(value ?? null, path);
  if (raw === null) return null;
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    // not a URL: the row simply has no link
    return null;
  }
}

function parseRow(v: unknown, p: string): InboxRow {
  const r = obj(v, p);
  const contact = r.contact === null || r.contact === undefined ? null : obj(r.contact, `${p}.contact`);
  const last =
    r.lastMessage === null || r.lastMessage === undefined ? null : obj(r.lastMessage, `${p}.lastMessage`);
  const assignee = r.assignee === null || r.assignee === undefined ? null : obj(r.assignee, `${p}.assignee`);
  const find = isRecord(r.findInCrm) ? r.findInCrm : null;
  const findUrl = find === null ? null : pageUrl(find.url, `${p}.findInCrm.url`);
  return {
    conversationId: str(r.conversationId, `${p}.conversationId`),
    contactPhone: str(r.contactPhone, `${p}.contactPhone`),
    contact:
      contact === null
        ? null
        : {
            name: strOrNull(contact.name ?? null, `${p}.contact.name`),
            recordUrl: pageUrl(contact.recordUrl, `${p}.contact.recordUrl`),
          },
    lastMessage:
      last === null
        ? null
        : {
            direction: oneOf(last.direction, ['inbound', 'outbound'] as const, `${p}.lastMessage.direction`),
            body: str(last.body, `${p}.lastMessage.body`),
            at: str(last.at, `${p}.lastMessage.at`),
          },
    consent: oneOf(r.consent, ['opted_in', 'opted_out', 'unknown'] as const, `${p}.consent`),
    assignee:
      assignee === null
        ? null
        : {
            userId: str(assignee.userId, `${p}.assignee.userId`),
            name: strOrNull(assignee.name ?? null, `${p}.assignee.name`),
          },
    unread: r.unread === true,
    findInCrm:
      find === null || findUrl === null ? null : { crm: str(find.crm, `${p}.findInCrm.crm`), url: findUrl },
  };
}

export function parseInboxPage(value: unknown): InboxPage {
  const o = obj(value, 'body');
  const count = o.unreadCount;
  return {
    rows: arr(o.rows, 'rows', parseRow),
    unreadCount: typeof count === 'number' && Number.isInteger(count) && count >= 0 ? count : 0,
    nextCursor: strOrNull(o.nextCursor ?? null, 'nextCursor'),
  };
}
