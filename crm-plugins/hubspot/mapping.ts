import type { CountryCode } from 'libphonenumber-js';
import { statusLabel } from '../batching.ts';
import { toE164 } from '../phone.ts';
import {
  type ConsentChange,
  type ConsentProjection,
  CRM_CONSENT_STATUSES,
  type CrmConsentStatus,
  type CrmContact,
  type CrmMessage,
  type FollowUpKind,
  type FollowUpTask,
} from '../types.ts';
import type { HsPropertyDef, HsRecord } from './wire.ts';

export const GROUP = 'sms_relay';

/** Contact properties the plugin writes. */
export const P = {
  status: 'sms_consent_status',
  updatedAt: 'sms_consent_updated_at',
  source: 'sms_consent_source',
  lastSmsAt: 'sms_last_sms_at',
  lastSmsDirection: 'sms_last_sms_direction',
  /** The status the relay last wrote; differs from `status` only after a CRM-side edit. */
  projected: 'sms_relay_projected_status',
  /** On communications: the relay's message id (idempotency key). */
  messageId: 'sms_relay_message_id',
} as const;

const STATUS_OPTIONS = [
  { label: 'Opted in', value: 'opted_in' },
  { label: 'Opted out', value: 'opted_out' },
  { label: 'Pending', value: 'pending' },
  { label: 'Unknown', value: 'unknown' },
];

/** Property groups install creates, per object type. */
export const GROUPS = [
  { objectType: 'contacts', name: GROUP, label: 'SMS Relay' },
  { objectType: 'communications', name: GROUP, label: 'SMS Relay' },
] as const;

/** Properties install creates, per object type. */
export const PROPERTIES: readonly { objectType: 'contacts' | 'communications'; def: HsPropertyDef }[] = [
  {
    objectType: 'contacts',
    def: {
      name: P.status,
      label: 'SMS consent status',
      description: 'SMS consent as recorded by the SMS relay. Set it to "Opted out" to stop texts.',
      groupName: GROUP,
      type: 'enumeration',
      fieldType: 'select',
      options: STATUS_OPTIONS,
    },
  },
  {
    objectType: 'contacts',
    def: {
      name: P.updatedAt,
      label: 'SMS consent updated at',
      description: 'When SMS consent last changed in the relay ledger.',
      groupName: GROUP,
      type: 'datetime',
      fieldType: 'date',
    },
  },
  {
    objectType: 'contacts',
    def: {
      name: P.source,
      label: 'SMS consent source',
      description: 'How SMS consent was given or withdrawn (keyword, web form, verbal…).',
      groupName: GROUP,
      type: 'string',
      fieldType: 'text',
    },
  },
  {
    objectType: 'contacts',
    def: {
      name: P.lastSmsAt,
      label: 'Last SMS at',
      description: 'When the last SMS with this contact was sent or received.',
      groupName: GROUP,
      type: 'datetime',
      fieldType: 'date',
    },
  },
  {
    objectType: 'contacts',
    def: {
      name: P.lastSmsDirection,
      label: 'Last SMS direction',
      description: 'Whether the last SMS was sent or received.',
      groupName: GROUP,
      type: 'enumeration',
      fieldType: 'select',
      options: [
        { label: 'Inbound', value: 'inbound' },
        { label: 'Outbound', value: 'outbound' },
      ],
    },
  },
  {
    objectType: 'contacts',
    def: {
      name: P.projected,
      label: 'SMS consent (relay copy)',
      description: 'Internal: the status the relay last wrote, to tell CRM-side changes apart.',
      groupName: GROUP,
      type: 'enumeration',
      fieldType: 'select',
      hidden: true,
      options: STATUS_OPTIONS,
    },
  },
  {
    objectType: 'communications',
    def: {
      name: P.messageId,
      label: 'SMS relay message id',
      description: 'Internal: the relay message this entry logs; keeps retries from duplicating it.',
      groupName: GROUP,
      type: 'string',
      fieldType: 'text',
    },
  },
];

/** Properties read to build a CrmContact. */
export const CONTACT_PROPERTIES = [
  'firstname',
  'lastname',
  'email',
  'phone',
  'mobilephone',
  'hs_timezone',
  'hubspot_owner_id',
];

/** The contact's owner id (hubspot_owner_id), if it has one; its email takes an owners call. */
export function ownerIdOf(record: HsRecord): string | null {
  const id = record.properties.hubspot_owner_id;
  return id === null || id === undefined || !/^\d{1,20}$/.test(id) ? null : id;
}

/** HubSpot's `hs_timezone` values look like `america_slash_new_york`; IANA is `America/New_York`. */
export function ianaTimeZone(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null;
  const zone = value
    .split('_slash_')
    .map((part) =>
      part
        .split('_')
        .map((w) => (w.length === 0 ? w : w[0]?.toUpperCase() + w.slice(1)))
        .join('_'),
    )
    .join('/');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return null;
  }
}

export function toContact(record: HsRecord, defaultCountry: CountryCode): CrmContact {
  const p = record.properties;
  const name = [p.firstname, p.lastname].filter((s) => s !== null && s !== undefined && s !== '').join(' ');
  const phones = [p.mobilephone, p.phone].map((raw) => toE164(raw, defaultCountry)).filter((x) => x !== null);
  return {
    ref: { crm: 'hubspot', objectType: 'contact', id: record.id },
    name: name === '' ? (p.email ?? `Contact ${record.id}`) : name,
    phones: [...new Set(phones)],
    timeZone: ianaTimeZone(p.hs_timezone),
    ownerEmail: null,
  };
}

export function consentProperties(consent: ConsentProjection): Record<string, string> {
  return {
    [P.status]: consent.status,
    [P.updatedAt]: consent.updatedAt.toISOString(),
    [P.source]: consent.source,
    [P.projected]: consent.status,
  };
}

export function asConsentStatus(value: string | null | undefined): CrmConsentStatus | null {
  return (CRM_CONSENT_STATUSES as readonly string[]).includes(value ?? '')
    ? (value as CrmConsentStatus)
    : null;
}

/** A contact whose status differs from what the relay projected was changed in HubSpot. */
export function toConsentChange(record: HsRecord): ConsentChange | null {
  const status = asConsentStatus(record.properties[P.status]);
  const projected = asConsentStatus(record.properties[P.projected]);
  if (status === null || status === projected) return null;
  const modified = record.properties.lastmodifieddate;
  return {
    ref: { crm: 'hubspot', objectType: 'contact', id: record.id },
    status,
    changedAt: modified ? new Date(modified) : record.updatedAt,
    source: record.properties[P.source] ?? null,
    previouslyProjected: projected,
  };
}

/** A message as a Communication (channel SMS); the body says which way it went. */
export function toCommunication(message: CrmMessage): Record<string, string> {
  const who = message.customerPhone ?? 'contact';
  const status = statusLabel(message);
  const heading =
    message.direction === 'inbound'
      ? `Inbound SMS from ${who}`
      : `Outbound SMS to ${who}${status === '' ? '' : ` (${status})`}`;
  return {
    hs_communication_channel_type: 'SMS',
    hs_communication_logged_from: 'CRM',
    hs_communication_body: `${heading}:\n${message.body}`,
    hs_timestamp: message.occurredAt.toISOString(),
    [P.messageId]: message.externalKey,
  };
}

export function lastSmsProperties(message: CrmMessage): Record<string, string> {
  return { [P.lastSmsAt]: message.occurredAt.toISOString(), [P.lastSmsDirection]: message.direction };
}

const TASK_TYPE: Record<FollowUpKind, string> = { call: 'CALL', email: 'EMAIL' };

/** A follow-up as an open task; `hs_timestamp` is the due date HubSpot requires on every task. */
export function toTaskProperties(
  task: FollowUpTask,
  now: Date,
  ownerId: string | null,
): Record<string, string> {
  return {
    hs_task_type: TASK_TYPE[task.kind],
    hs_task_subject: task.subject,
    hs_task_body: task.body,
    hs_task_status: 'NOT_STARTED',
    hs_task_priority: 'MEDIUM',
    hs_timestamp: (task.dueAt ?? now).toISOString(),
    ...(ownerId === null ? {} : { hubspot_owner_id: ownerId }),
  };
}
