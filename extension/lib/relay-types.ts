import type { Static } from 'typebox';
import type { Me as WireMe } from '../../contract/auth.ts';
import type { ConsentRecordedBody, ConsentStatus } from '../../contract/consent.ts';
import type {
  ConsentEvidenceSummarySchema,
  ContactLocalTimeSchema,
  ContactLookupBody,
  RevealedContactPhoneSchema,
} from '../../contract/contacts.ts';
import type { Conversation } from '../../contract/conversations.ts';
import type { ErrorBody as ErrorEnvelope } from '../../contract/errors.ts';
import type { EscalationLoggedBody } from '../../contract/escalations.ts';
import {
  MESSAGE_STATUSES,
  type Message as WireMessage,
  type MessagePage as WirePage,
} from '../../contract/messages.ts';
import type { SenderNumber as WireSenderNumber } from '../../contract/numbers.ts';
import type { PreflightBody, RefusalSchema } from '../../contract/preflight.ts';
import { arr, num, obj, oneOf, str, strOrNull } from './validate.ts';

/**
 * Relay wire types and their parsers; everything the relay returns goes through one of these.
 * The types come from the wire contract (contract/), narrowed to what the extension reads.
 */

export type { ConsentStatus, Conversation };
export { MESSAGE_STATUSES };

export type MessageStatus = WireMessage['status'];

/** A message as the relay sends it; the extension does not read `purpose`. */
export type Message = Omit<WireMessage, 'purpose'>;

export type Redaction = Message['redactions'][number];

/**
 * The signed-in principal as the extension reads it (it does not show the key id). The parser accepts a
 * missing display name, so the extension's type allows null where the contract promises a string.
 */
export type Me = Omit<Static<typeof WireMe>, 'keyId' | 'displayName'> & { displayName: string | null };

/** A shared template the org's admin set for the extension. */
export type MessageTemplate = Me['extension']['templates'][number];

export type NotificationPreference = Exclude<Me['extension']['locked']['notifications'], null>;

/** A sender number as the extension reads it (it does not show the number type). */
export type SenderNumber = Omit<WireSenderNumber, 'numberType' | 'defaultAssigneeUserId'>;

/** The customer's time zone as quiet hours resolve it, and their wall-clock time when the relay answered. */
export type RecipientLocalTime = Static<typeof ContactLocalTimeSchema>;

export type ConsentEvidence = Static<typeof ConsentEvidenceSummarySchema>;

export type ContactLookup = ContactLookupBody;

/** A contact's number unmasked on request (pii.reveal); the relay recorded the reveal. */
export type RevealedContactPhone = Static<typeof RevealedContactPhoneSchema>;

/** One refusal of a preflight; the extension reads its details as unknown. */
export type Refusal = Omit<Static<typeof RefusalSchema>, 'details'> & { details: unknown };

/** A span of the draft the content scanner objects to (offsets into the rep's text). */
export interface SensitiveFinding {
  kind: string;
  start: number;
  end: number;
}

/**
 * What the relay would decide for a draft (`POST /v1/messages/preflight`), as the extension reads
 * it: the local time normalised to the contact lookup's shape (`source`).
 */
export type Preflight = Omit<
  PreflightBody,
  'refusals' | 'recipientLocalTime' | 'firstContactNotice' | 'sendAt'
> & { refusals: Refusal[]; recipientLocalTime: RecipientLocalTime | null };

/** One page of a conversation's messages. */
export type MessagePage = Omit<WirePage, 'messages'> & { messages: Message[] };

/** The inside of the relay's error envelope `{"error":{"code","message","details"}}`. */
export type ErrorBody = Static<typeof ErrorEnvelope>['error'];

/** What server/stores/redaction.ts produces: the content scanner's card, SSN and bank findings. */
const REDACTION_KINDS: readonly Redaction['kind'][] = ['card', 'ssn', 'bank'];

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
    scheduledFor: strOrNull(o.scheduledFor, `${path}.scheduledFor`),
    redactions:
      o.redactions === undefined || o.redactions === null
        ? []
        : arr(o.redactions, `${path}.redactions`, (v, p) => {
            const r = obj(v, p);
            return {
              kind: oneOf(r.kind, REDACTION_KINDS, `${p}.kind`),
              start: num(r.start, `${p}.start`),
              end: num(r.end, `${p}.end`),
              label: str(r.label, `${p}.label`),
            };
          }),
    createdAt: str(o.createdAt, `${path}.createdAt`),
    updatedAt: str(o.updatedAt, `${path}.updatedAt`),
  };
}

const NOTIFICATION_PREFERENCES: readonly NotificationPreference[] = ['off', 'mine', 'all'];

export function parseMe(value: unknown): Me {
  const o = obj(value, 'me');
  const permissions = arr(o.permissions, 'permissions', str);
  // Fields newer than the first relay release default to what an older relay implies.
  const ext = o.extension === undefined ? {} : obj(o.extension, 'extension');
  const locked = ext.locked === undefined ? {} : obj(ext.locked, 'extension.locked');
  return {
    orgId: str(o.orgId, 'orgId'),
    orgName: str(o.orgName, 'orgName'),
    role: str(o.role, 'role'),
    permissions,
    userId: strOrNull(o.userId, 'userId'),
    email: strOrNull(o.email, 'email'),
    displayName: strOrNull(o.displayName, 'displayName'),
    seesPii: o.seesPii === undefined ? permissions.includes('pii.view') : o.seesPii === true,
    extension: {
      templates:
        ext.templates === undefined
          ? []
          : arr(ext.templates, 'extension.templates', (v, p) => {
              const t = obj(v, p);
              return {
                id: str(t.id, `${p}.id`),
                name: str(t.name, `${p}.name`),
                body: str(t.body, `${p}.body`),
              };
            }),
      locked: {
        notifications:
          locked.notifications === undefined || locked.notifications === null
            ? null
            : oneOf(locked.notifications, NOTIFICATION_PREFERENCES, 'extension.locked.notifications'),
      },
    },
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

function parseLocalTime(value: unknown, path: string): RecipientLocalTime | null {
  if (value === undefined || value === null) return null;
  const t = obj(value, path);
  return {
    zone: str(t.zone, `${path}.zone`),
    source: str(t.source ?? t.zoneSource, `${path}.source`),
    localTime: str(t.localTime, `${path}.localTime`),
  };
}

function optional<T>(value: unknown, path: string, parse: (o: Record<string, unknown>) => T): T | null {
  return value === undefined || value === null ? null : parse(obj(value, path));
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
      localTime: parseLocalTime(c.localTime, 'contact.localTime'),
    },
    consent: {
      status: oneOf(k.status, ['opted_in', 'opted_out', 'unknown'], 'consent.status'),
      updatedAt: strOrNull(k.updatedAt, 'consent.updatedAt'),
      source: strOrNull(k.source, 'consent.source'),
      evidence: optional(k.evidence, 'consent.evidence', (e) => ({
        kind: str(e.kind, 'consent.evidence.kind'),
        source: strOrNull(e.source, 'consent.evidence.source'),
        evidence: strOrNull(e.evidence, 'consent.evidence.evidence'),
        actor: strOrNull(e.actor, 'consent.evidence.actor'),
        at: str(e.at, 'consent.evidence.at'),
      })),
      pendingOptIn: optional(k.pendingOptIn, 'consent.pendingOptIn', (p) => ({
        source: strOrNull(p.source, 'consent.pendingOptIn.source'),
        requestedAt: str(p.requestedAt, 'consent.pendingOptIn.requestedAt'),
      })),
      review: optional(k.review, 'consent.review', (r) => ({
        reviewId: str(r.reviewId, 'consent.review.reviewId'),
        reason: str(r.reason, 'consent.review.reason'),
        since: str(r.since, 'consent.review.since'),
      })),
    },
  };
}

export function parsePreflight(value: unknown): Preflight {
  const o = obj(value, 'body');
  return {
    allowed: o.allowed === true,
    refusals: arr(o.refusals, 'refusals', (v, p) => {
      const r = obj(v, p);
      return { code: str(r.code, `${p}.code`), message: str(r.message, `${p}.message`), details: r.details };
    }),
    finalText: str(o.finalText, 'finalText'),
    segments: num(o.segments, 'segments'),
    encoding: oneOf(o.encoding, ['GSM-7', 'UCS-2'], 'encoding'),
    recipientLocalTime: parseLocalTime(o.recipientLocalTime, 'recipientLocalTime'),
    nextAllowedAt: strOrNull(o.nextAllowedAt, 'nextAllowedAt'),
    schedulable: o.schedulable === true,
  };
}

/** The spans a SENSITIVE_CONTENT refusal points at, clipped to the draft; malformed details give none. */
export function sensitiveFindings(preflight: Preflight, textLength: number): SensitiveFinding[] {
  const refusal = preflight.refusals.find((r) => r.code === 'SENSITIVE_CONTENT');
  const details = refusal?.details as { findings?: unknown } | undefined;
  if (!Array.isArray(details?.findings)) return [];
  const out: SensitiveFinding[] = [];
  for (const f of details.findings as unknown[]) {
    const { kind, start, end } = (f ?? {}) as Record<string, unknown>;
    if (typeof kind !== 'string' || !Number.isInteger(start) || !Number.isInteger(end)) continue;
    const s = Math.max(0, Math.min(textLength, start as number));
    const e = Math.max(s, Math.min(textLength, end as number));
    if (e > s) out.push({ kind, start: s, end: e });
  }
  return out.sort((a, b) => a.start - b.start);
}

export function parseRevealedContactPhone(value: unknown): RevealedContactPhone {
  const o = obj(value, 'body');
  const c = obj(o.contact, 'contact');
  return {
    contact: {
      crm: oneOf(c.crm, ['hubspot', 'salesforce', 'sandbox'], 'contact.crm'),
      objectType: oneOf(c.objectType, ['contact', 'lead'], 'contact.objectType'),
      id: str(c.id, 'contact.id'),
    },
    phone: str(o.phone, 'phone'),
  };
}

/** `{ phone, status, since }` after recording consent; `pendingConfirmation` when double opt-in asked. */
export type ConsentRecorded = Pick<ConsentRecordedBody, 'status'> & { pendingConfirmation: boolean };

export function parseConsentRecorded(value: unknown): ConsentRecorded {
  const o = obj(value, 'body');
  return {
    status: oneOf(o.status, ['opted_in', 'opted_out', 'unknown'], 'status'),
    pendingConfirmation: o.pendingConfirmation === true,
  };
}

/** The CRM task an escalation logged, as the extension reads it. */
export type EscalationLogged = Omit<EscalationLoggedBody['activity'], 'crm'>;

export function parseEscalation(value: unknown): EscalationLogged {
  const a = obj(obj(value, 'body').activity, 'activity');
  return { id: str(a.id, 'activity.id'), kind: oneOf(a.kind, ['call', 'email'], 'activity.kind') };
}

export function parseConversations(value: unknown): Conversation[] {
  const o = obj(value, 'body');
  // The list is paged (nextCursor); the panel shows a contact's first page, which holds every
  // thread of one contact in practice. A relay from before paging sends no cursor at all.
  if (o.nextCursor !== undefined) strOrNull(o.nextCursor, 'nextCursor');
  return arr(o.conversations, 'conversations', (v, p) => {
    const c = obj(v, p);
    return {
      id: str(c.id, `${p}.id`),
      senderNumber: str(c.senderNumber, `${p}.senderNumber`),
      contactPhone: str(c.contactPhone, `${p}.contactPhone`),
      contact: optional(c.contact, `${p}.contact`, (r) => ({
        crm: str(r.crm, `${p}.contact.crm`),
        objectType: str(r.objectType, `${p}.contact.objectType`),
        id: str(r.id, `${p}.contact.id`),
      })),
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

/** The data of a live message event: the message and, on an inbound text, who has sent in its conversation. */
export interface MessageEvent {
  message: Message;
  /** The users who have sent in the conversation; null when the event names none (updates, older relays). */
  participants: string[] | null;
}

export function parseMessageEvent(value: unknown): MessageEvent {
  const o = obj(value, 'body');
  return {
    message: parseMessage(o.message),
    participants: o.participants === undefined ? null : arr(o.participants, 'participants', str),
  };
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
