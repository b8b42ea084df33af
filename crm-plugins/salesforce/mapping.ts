import type { CountryCode } from 'libphonenumber-js';
import { statusLabel } from '../batching.ts';
import { toE164 } from '../phone.ts';
import {
  type ConsentChange,
  type ConsentProjection,
  type ContactRef,
  CRM_CONSENT_STATUSES,
  type CrmConsentStatus,
  type CrmContact,
  type CrmMessage,
  type FollowUpKind,
  type FollowUpTask,
} from '../types.ts';
import type { SfRecord } from './client.ts';

/** Custom fields the plugin writes. */
export const F = {
  status: 'SMS_Consent_Status__c',
  updatedAt: 'SMS_Consent_Updated_At__c',
  source: 'SMS_Consent_Source__c',
  lastSmsAt: 'SMS_Last_SMS_At__c',
  /** The status the relay last wrote; differs from `status` only after a CRM-side edit. */
  projected: 'SMS_Relay_Projected_Status__c',
  /** On Task: the relay message id, an external id (unique) so upserts are idempotent. */
  messageId: 'SMS_Relay_Message_Id__c',
} as const;

export const PERMISSION_SET = { Name: 'SMS_Relay', Label: 'SMS Relay' } as const;

export type SfObject = 'Contact' | 'Lead';

export const OBJECT_OF: Record<ContactRef['objectType'], SfObject> = { contact: 'Contact', lead: 'Lead' };

/** A custom field: where Tooling defines it (`Activity` for Task fields) and where FLS applies. */
export interface CustomFieldSpec {
  table: 'Contact' | 'Lead' | 'Activity' | 'Opportunity';
  sobject: 'Contact' | 'Lead' | 'Task' | 'Opportunity';
  name: string;
  metadata: Record<string, unknown>;
}

const statusPicklist = {
  label: 'SMS Consent Status',
  type: 'Picklist',
  description: 'SMS consent as recorded by the SMS relay. Set it to "Opted out" to stop texts.',
  valueSet: {
    restricted: true,
    valueSetDefinition: {
      sorted: false,
      value: CRM_CONSENT_STATUSES.map((v) => ({ fullName: v, label: v.replace('_', ' '), default: false })),
    },
  },
};

const personFields = (table: 'Contact' | 'Lead'): CustomFieldSpec[] => [
  { table, sobject: table, name: F.status, metadata: statusPicklist },
  {
    table,
    sobject: table,
    name: F.updatedAt,
    metadata: {
      label: 'SMS Consent Updated At',
      type: 'DateTime',
      description: 'When SMS consent last changed.',
    },
  },
  {
    table,
    sobject: table,
    name: F.source,
    metadata: {
      label: 'SMS Consent Source',
      type: 'Text',
      length: 255,
      description: 'How SMS consent was given.',
    },
  },
  {
    table,
    sobject: table,
    name: F.lastSmsAt,
    metadata: {
      label: 'Last SMS At',
      type: 'DateTime',
      description: 'When the last SMS was sent or received.',
    },
  },
  {
    table,
    sobject: table,
    name: F.projected,
    metadata: {
      label: 'SMS Consent (relay copy)',
      type: 'Text',
      length: 32,
      description: 'Internal: the status the relay last wrote, to tell CRM-side changes apart.',
    },
  },
];

/** Every field install creates, in order. */
export const CUSTOM_FIELDS: readonly CustomFieldSpec[] = [
  ...personFields('Contact'),
  ...personFields('Lead'),
  {
    table: 'Activity',
    sobject: 'Task',
    name: F.messageId,
    metadata: {
      label: 'SMS Relay Message Id',
      type: 'Text',
      length: 64,
      externalId: true,
      unique: true,
      caseSensitive: true,
      description: 'Internal: the relay message a Task logs; keeps retries from duplicating it.',
    },
  },
];

/** `Contact.SMS_Consent_Status__c`: the id of a field in plans and permission rows. */
export const fieldKey = (f: CustomFieldSpec) => `${f.sobject}.${f.name}`;

/** Fields read to build a CrmContact (Contact has two more phone fields than Lead). */
export const PERSON_FIELDS: Record<SfObject, string[]> = {
  Contact: ['Id', 'Name', 'MobilePhone', 'Phone', 'HomePhone', 'OtherPhone', 'Owner.Email'],
  Lead: ['Id', 'Name', 'MobilePhone', 'Phone', 'Owner.Email'],
};

function str(record: SfRecord, path: string): string | null {
  let value: unknown = record;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return null;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'string' ? value : null;
}

export function toContact(record: SfRecord, object: SfObject, country: CountryCode): CrmContact {
  const phoneFields = PERSON_FIELDS[object].filter((f) => f.endsWith('Phone'));
  const phones = phoneFields.map((f) => toE164(str(record, f), country)).filter((p) => p !== null);
  const id = str(record, 'Id') ?? '';
  return {
    ref: { crm: 'salesforce', objectType: object === 'Contact' ? 'contact' : 'lead', id },
    name: str(record, 'Name') ?? id,
    phones: [...new Set(phones)],
    // Contacts carry no time zone in Salesforce; the relay falls back to the number's area.
    timeZone: null,
    ownerEmail: str(record, 'Owner.Email'),
  };
}

/** The object type of a SOSL/SOQL row (`attributes.type`). */
export function objectOf(record: SfRecord): SfObject | null {
  const type = str(record, 'attributes.type');
  return type === 'Contact' || type === 'Lead' ? type : null;
}

export function consentFields(consent: ConsentProjection): Record<string, string> {
  return {
    [F.status]: consent.status,
    [F.updatedAt]: consent.updatedAt.toISOString(),
    [F.source]: consent.source.slice(0, 255),
    [F.projected]: consent.status,
  };
}

function asStatus(value: string | null): CrmConsentStatus | null {
  return (CRM_CONSENT_STATUSES as readonly string[]).includes(value ?? '')
    ? (value as CrmConsentStatus)
    : null;
}

/** Salesforce datetimes look like `2024-05-01T12:00:00.000+0000`. */
export function parseSfDate(value: string | null): Date | null {
  if (value === null) return null;
  const iso = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** A record whose status differs from what the relay projected was changed in Salesforce. */
export function toConsentChange(record: SfRecord, object: SfObject): ConsentChange | null {
  const status = asStatus(str(record, F.status));
  const projected = asStatus(str(record, F.projected));
  if (status === null || status === projected) return null;
  return {
    ref: {
      crm: 'salesforce',
      objectType: object === 'Contact' ? 'contact' : 'lead',
      id: str(record, 'Id') ?? '',
    },
    status,
    changedAt: parseSfDate(str(record, 'SystemModstamp')) ?? new Date(0),
    source: str(record, F.source),
    previouslyProjected: projected,
  };
}

/** A message as a completed Task on the contact's or lead's activity timeline. */
export function toTask(message: CrmMessage): Record<string, unknown> {
  const who = message.customerPhone ?? '';
  const status = statusLabel(message);
  const subject =
    message.direction === 'inbound'
      ? `SMS received ${who}`
      : `${message.status === 'failed' ? 'SMS failed' : 'SMS sent'} ${who}${status === '' ? '' : ` (${status})`}`;
  return {
    [F.messageId]: message.externalKey,
    WhoId: message.contact.id,
    Subject: subject.trim().slice(0, 255),
    Description: message.body.slice(0, 32_000),
    Status: 'Completed',
    Priority: 'Normal',
    ActivityDate: message.occurredAt.toISOString().slice(0, 10),
  };
}

/** TaskSubtype is create-only and restricted: it is what makes the timeline show a call or an email. */
const TASK_SUBTYPE: Record<FollowUpKind, string> = { call: 'Call', email: 'Email' };

/** A follow-up as an open Task on the contact's or lead's timeline, due on `dueAt`'s (UTC) date. */
export function toFollowUpTask(
  ref: ContactRef,
  task: FollowUpTask,
  now: Date,
  ownerId: string | null,
): Record<string, unknown> {
  return {
    WhoId: ref.id,
    Subject: task.subject.slice(0, 255),
    Description: task.body.slice(0, 32_000),
    TaskSubtype: TASK_SUBTYPE[task.kind],
    Status: 'Not Started',
    Priority: 'Normal',
    ActivityDate: (task.dueAt ?? now).toISOString().slice(0, 10),
    ...(ownerId === null ? {} : { OwnerId: ownerId }),
  };
}
