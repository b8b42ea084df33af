import type { CrmId, ObjectType } from '../hosts/types.ts';
import { arr, num, obj, oneOf, str, strOrNull } from './validate.ts';

/** Relay wire types and their parsers; everything the relay returns goes through one of these. */

export const MESSAGE_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'received',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface Message {
  id: string;
  conversationId: string;
  direction: 'outbound' | 'inbound';
  from: string;
  to: string;
  body: string;
  status: MessageStatus;
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
  errorCode: string | null;
  errorMessage: string | null;
  sentBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Me {
  orgId: string;
  orgName: string;
  role: string;
  permissions: string[];
}

export interface SenderNumber {
  id: string;
  e164: string;
  label: string | null;
}

export type ConsentStatus = 'opted_in' | 'opted_out' | 'unknown';

export interface ContactLookup {
  contact: {
    crm: CrmId;
    objectType: ObjectType;
    id: string;
    name: string;
    phone: string | null;
    timeZone: string | null;
  };
  consent: { status: ConsentStatus; updatedAt: string | null; source: string | null };
}

export interface Conversation {
  id: string;
  senderNumber: string;
  contactPhone: string;
  lastMessageAt: string | null;
}

export interface MessagePage {
  messages: Message[];
  nextCursor: string | null;
}

/** The relay's error envelope `{"error":{"code","message","details"}}`. */
export interface ErrorBody {
  code: string;
  message: string;
  details: unknown;
}

export function parseMessage(value: unknown, path = 'message'): Message {
  const o = obj(value, path);
  return {
    id: str(o.id, `${path}.id`),
    conversationId: str(o.conversationId, `${path}.conversationId`),
    direction: oneOf(o.direction, ['outbound', 'inbound'], `${path}.direction`),
    from: str(o.from, `${path}.from`),
    to: str(o.to, `${path}.to`),
    body: str(o.body, `${path}.body`),
    status: oneOf(o.status, MESSAGE_STATUSES, `${path}.status`),
    segments: num(o.segments, `${path}.segments`),
    encoding: oneOf(o.encoding, ['GSM-7', 'UCS-2'], `${path}.encoding`),
    errorCode: strOrNull(o.errorCode, `${path}.errorCode`),
    errorMessage: strOrNull(o.errorMessage, `${path}.errorMessage`),
    sentBy: strOrNull(o.sentBy, `${path}.sentBy`),
    createdAt: str(o.createdAt, `${path}.createdAt`),
    updatedAt: str(o.updatedAt, `${path}.updatedAt`),
  };
}

export function parseMe(value: unknown): Me {
  const o = obj(value, 'me');
  return {
    orgId: str(o.orgId, 'orgId'),
    orgName: str(o.orgName, 'orgName'),
    role: str(o.role, 'role'),
    permissions: arr(o.permissions, 'permissions', str),
  };
}

export function parseNumbers(value: unknown): SenderNumber[] {
  const o = obj(value, 'body');
  return arr(o.numbers, 'numbers', (v, p) => {
    const n = obj(v, p);
    return {
      id: str(n.id, `${p}.id`),
      e164: str(n.e164, `${p}.e164`),
      label: strOrNull(n.label, `${p}.label`),
    };
  });
}

export function parseContactLookup(value: unknown): ContactLookup {
  const o = obj(value, 'body');
  const c = obj(o.contact, 'contact');
  const k = obj(o.consent, 'consent');
  return {
    contact: {
      crm: oneOf(c.crm, ['hubspot', 'salesforce', 'sandbox'], 'contact.crm'),
      objectType: oneOf(c.objectType, ['contact', 'lead'], 'contact.objectType'),
      id: str(c.id, 'contact.id'),
      name: str(c.name, 'contact.name'),
      phone: strOrNull(c.phone, 'contact.phone'),
      timeZone: strOrNull(c.timeZone, 'contact.timeZone'),
    },
    consent: {
      status: oneOf(k.status, ['opted_in', 'opted_out', 'unknown'], 'consent.status'),
      updatedAt: strOrNull(k.updatedAt, 'consent.updatedAt'),
      source: strOrNull(k.source, 'consent.source'),
    },
  };
}

export function parseConversations(value: unknown): Conversation[] {
  const o = obj(value, 'body');
  return arr(o.conversations, 'conversations', (v, p) => {
    const c = obj(v, p);
    return {
      id: str(c.id, `${p}.id`),
      senderNumber: str(c.senderNumber, `${p}.senderNumber`),
      contactPhone: str(c.contactPhone, `${p}.contactPhone`),
      lastMessageAt: strOrNull(c.lastMessageAt, `${p}.lastMessageAt`),
    };
  });
}

export function parseMessagePage(value: unknown): MessagePage {
  const o = obj(value, 'body');
  return {
    messages: arr(o.messages, 'messages', parseMessage),
    nextCursor: strOrNull(o.nextCursor, 'nextCursor'),
  };
}

/** `{ "message": Message }`, the body of a send response and of every SSE event. */
export function parseMessageEnvelope(value: unknown): Message {
  return parseMessage(obj(value, 'body').message);
}

/** The error envelope, or null when the body is not one (e.g. a proxy's HTML error page). */
export function parseErrorBody(value: unknown): ErrorBody | null {
  try {
    const e = obj(obj(value, 'body').error, 'error');
    return { code: str(e.code, 'error.code'), message: str(e.message, 'error.message'), details: e.details };
  } catch {
    return null;
  }
}
