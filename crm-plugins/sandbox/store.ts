/** The sandbox CRM's in-memory state: its records, installed fields, users and the failures a test queued. */
import { CrmNotFoundError, CrmRequestError } from '../errors.ts';
import type { ContactRef, CrmConsentStatus, CrmContact, CrmPaymentStatus, FollowUpKind } from '../types.ts';
import { SANDBOX_FIELDS, type SandboxTimelineEntry } from './mapping.ts';

/** An open task on a sandbox record, as a CRM user would see it in the record's task list. */
export interface SandboxFollowUp {
  id: string;
  kind: FollowUpKind;
  subject: string;
  body: string;
  dueAt: Date;
  /** The sandbox user it is assigned to, or null (unassigned). */
  assigneeEmail: string | null;
  status: 'not_started' | 'completed';
  createdAt: Date;
}

/** A payment request as a sandbox record shows it: one entry per request, rewritten as it moves on. */
export interface SandboxPaymentEntry {
  id: string;
  requestId: string;
  status: CrmPaymentStatus;
  /** "Paid", "Link sent"… */
  statusLabel: string;
  title: string;
  body: string;
  reference: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Consent fields of a sandbox record, as a CRM user would see them. */
export interface SandboxConsentFields {
  status: CrmConsentStatus | null;
  updatedAt: Date | null;
  source: string | null;
  lastSmsAt: Date | null;
}

/** A contact or lead of the sandbox CRM with everything the CRM keeps on it. */
export interface SandboxRecord {
  ref: ContactRef;
  name: string;
  phone: string | null;
  mobilePhone: string | null;
  timeZone: string | null;
  ownerEmail: string | null;
  consent: SandboxConsentFields;
  /** The status the relay last wrote; a different `consent.status` means a CRM user changed it. */
  projected: CrmConsentStatus | null;
  /** Monotonic modification stamp, like SystemModstamp. */
  modSeq: number;
  modifiedAt: Date;
  timeline: SandboxTimelineEntry[];
  followUps: SandboxFollowUp[];
  payments: SandboxPaymentEntry[];
}

type NewRecord = Omit<
  SandboxRecord,
  'consent' | 'projected' | 'modSeq' | 'modifiedAt' | 'timeline' | 'followUps' | 'payments'
>;

/** What a demo page or a test gives to add a record. */
export interface NewSandboxRecord {
  objectType: ContactRef['objectType'];
  name: string;
  phone?: string;
  mobilePhone?: string;
}

const keyOf = (ref: ContactRef) => `${ref.objectType}:${ref.id}`;

/** The records and schema of one sandbox CRM, shared by its capabilities. */
export class SandboxStore {
  readonly records = new Map<string, SandboxRecord>();
  readonly installedFields: Set<string>;
  /** The record each logged message went to, by its external key. */
  readonly loggedKeys = new Map<string, ContactRef>();
  /** The record each payment request's entry is on, by request id. */
  readonly paymentKeys = new Map<string, ContactRef>();
  /** CRM users tasks can be assigned to, by lower-cased email. */
  readonly users = new Set<string>();
  /** The last modification stamp given to a record. */
  seq = 0;
  private nextId = 5000;
  private nextTaskId = 0;
  private failOnce = new Set<string>();
  private failFollowUp = false;
  private failPayment = false;

  constructor(
    readonly now: () => Date,
    contacts: readonly CrmContact[],
    installed: boolean,
  ) {
    this.installedFields = new Set<string>(installed ? SANDBOX_FIELDS.map((f) => f.target) : []);
    for (const c of contacts) {
      this.add({
        ref: c.ref,
        name: c.name,
        phone: c.phones[1] ?? null,
        mobilePhone: c.phones[0] ?? null,
        timeZone: c.timeZone,
        ownerEmail: c.ownerEmail,
      });
    }
  }

  /** Stamps a record as modified now. */
  touch(record: SandboxRecord): void {
    this.seq += 1;
    record.modSeq = this.seq;
    record.modifiedAt = this.now();
  }

  private add(c: NewRecord): SandboxRecord {
    const record: SandboxRecord = {
      ...c,
      consent: { status: null, updatedAt: null, source: null, lastSmsAt: null },
      projected: null,
      modSeq: 0,
      modifiedAt: this.now(),
      timeline: [],
      followUps: [],
      payments: [],
    };
    this.touch(record);
    this.records.set(keyOf(c.ref), record);
    return record;
  }

  /** Adds a record with the next free id, as a CRM user creating one would. */
  addContact(input: NewSandboxRecord): ContactRef {
    this.nextId += 1;
    const prefix = input.objectType === 'lead' ? 'l' : 'c';
    const ref: ContactRef = { crm: 'sandbox', objectType: input.objectType, id: `${prefix}-${this.nextId}` };
    this.add({
      ref,
      name: input.name,
      phone: input.phone ?? null,
      mobilePhone: input.mobilePhone ?? null,
      timeZone: null,
      ownerEmail: null,
    });
    return ref;
  }

  /** The record a ref points at, if it is a sandbox ref to one that exists. */
  recordOf(ref: ContactRef): SandboxRecord | undefined {
    return ref.crm === 'sandbox' ? this.records.get(keyOf(ref)) : undefined;
  }

  /** The record a ref points at, or a not-found error. */
  requireRecord(ref: ContactRef): SandboxRecord {
    const record = this.recordOf(ref);
    if (record === undefined) throw new CrmNotFoundError('sandbox', `no ${ref.objectType} ${ref.id}`);
    return record;
  }

  /** Whether every SMS field is installed. */
  isInstalled(): boolean {
    return this.installedFields.size === SANDBOX_FIELDS.length;
  }

  /** Refuses writes until install has added every SMS field. */
  requireInstalled(): void {
    if (this.installedFields.size < SANDBOX_FIELDS.length) {
      throw new CrmRequestError(
        'sandbox',
        'not_installed',
        'SMS fields are not installed; run install first',
      );
    }
  }

  addUser(email: string): void {
    this.users.add(email.trim().toLowerCase());
  }

  /** The id of the next follow-up task. */
  newTaskId(): string {
    this.nextTaskId += 1;
    return `task-${this.nextTaskId}`;
  }

  failNextAppendFor(keys: readonly string[]): void {
    this.failOnce = new Set(keys);
  }

  /** The keys the current append refuses; the next one refuses none. */
  takeAppendFailures(): Set<string> {
    const refusing = this.failOnce;
    this.failOnce = new Set();
    return refusing;
  }

  failNextFollowUp(): void {
    this.failFollowUp = true;
  }

  /** Whether the current follow-up task fails; only one does. */
  takeFollowUpFailure(): boolean {
    const failing = this.failFollowUp;
    this.failFollowUp = false;
    return failing;
  }

  failNextPayment(): void {
    this.failPayment = true;
  }

  /** Whether the current payment write fails; only one does. */
  takePaymentFailure(): boolean {
    const failing = this.failPayment;
    this.failPayment = false;
    return failing;
  }
}
