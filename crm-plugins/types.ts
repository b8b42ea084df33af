/** The CRMs the relay knows; each has one plugin in registry.ts. */
export const CRM_IDS = ['hubspot', 'salesforce', 'sandbox'] as const;
export type CrmId = (typeof CRM_IDS)[number];

/** A contact (or lead) record as the CRM identifies it. */
export interface ContactRef {
  crm: CrmId;
  objectType: 'contact' | 'lead';
  id: string;
}

import { PAYMENT_STATUS_VALUES } from '../contract/payments.ts';

/** A CRM contact reduced to what texting needs; vendor types never leave a plugin. */
export interface CrmContact {
  ref: ContactRef;
  name: string;
  /** E.164 numbers, mobile first. */
  phones: string[];
  timeZone: string | null;
  ownerEmail: string | null;
}

/** What createContact needs: the number (E.164) and a name if one is known. */
export interface NewCrmContact {
  phoneE164: string;
  name: string | null;
}

/** The quota the CRM reported in its latest answer (rate-limit headers), so callers slow down in time. */
export interface CrmUsage {
  /** Requests left in the current window, out of `limit`. */
  remaining: number;
  limit: number;
  /** The window: HubSpot's rolling 10 s burst quota, Salesforce's rolling 24 h one. */
  windowMs: number;
}

export interface CrmHealth {
  ok: boolean;
  detail: string;
}

/** The consent values a CRM record can show; `pending` means a double opt-in is under way. */
export const CRM_CONSENT_STATUSES = ['opted_in', 'opted_out', 'pending', 'unknown'] as const;
export type CrmConsentStatus = (typeof CRM_CONSENT_STATUSES)[number];

/** Consent as the relay's ledger derives it, projected onto the CRM record. */
export interface ConsentProjection {
  status: CrmConsentStatus;
  updatedAt: Date;
  /** Where the consent came from in the ledger: `keyword`, `web_form`, `verbal`, `crm`… */
  source: string;
}

export type MessageDirection = 'inbound' | 'outbound';

/** One SMS to log on a record's timeline. */
export interface CrmMessage {
  /** The relay's message id: the idempotency key of the timeline entry. */
  externalKey: string;
  contact: ContactRef;
  direction: MessageDirection;
  body: string;
  occurredAt: Date;
  /** The customer's number (E.164), shown on the entry. */
  customerPhone: string | null;
  /** Outbound only: the delivery status shown on the entry (absent or null for inbound). */
  status?: CrmMessageStatus | null;
}

/** The delivery statuses an outbound entry can show. */
export type CrmMessageStatus = 'sent' | 'delivered' | 'undelivered' | 'failed';

/** The outcome of one updateMessages call; every key of the batch lands in exactly one list. */
export interface UpdateResult {
  updated: string[];
  /** Keys with no timeline entry to update (never logged, or removed in the CRM). */
  notLogged: string[];
  failed: AppendFailure[];
}

/** A message the CRM refused; `retryable` tells the sync worker whether sending it again can help. */
export interface AppendFailure {
  externalKey: string;
  code: string;
  message: string;
  retryable: boolean;
}

/** The outcome of one appendMessages call; every key of the batch lands in exactly one list. */
export interface AppendResult {
  created: string[];
  /** Keys whose timeline entry already existed (a retried batch): nothing new was written. */
  alreadyLogged: string[];
  failed: AppendFailure[];
}

/** A consent status somebody set in the CRM itself (not through the relay). */
export interface ConsentChange {
  ref: ContactRef;
  status: CrmConsentStatus;
  /** When the record last changed, per the CRM's clock. */
  changedAt: Date;
  source: string | null;
  /** What the relay had last projected onto the record (null if never). */
  previouslyProjected: CrmConsentStatus | null;
}

/** CRM-side consent changes after a watermark, plus the watermark to pass next time. */
export interface ConsentChangesPage {
  changes: ConsentChange[];
  /** Opaque; store it and pass it to the next call. Null only if the CRM has never had a change. */
  watermark: string | null;
}

export type InstallStepKind =
  | 'property_group'
  | 'property'
  | 'custom_field'
  | 'permission_set'
  | 'field_permission';

/** One schema change install would make (or found already made). */
export interface InstallStep {
  kind: InstallStepKind;
  /** Stable id of the thing, e.g. `contacts.sms_consent_status` or `Contact.SMS_Consent_Status__c`. */
  target: string;
  action: 'create' | 'exists';
  description: string;
}

/** What install would do; `--dry-run` prints it, install(plan) applies it. */
export interface InstallPlan {
  crm: CrmId;
  steps: InstallStep[];
}

export interface InstallReport {
  created: string[];
  /** Targets that existed already (including ones created concurrently since the plan). */
  alreadyPresent: string[];
}

/** What a follow-up task asks a person to do: call the customer back, or write them an email. */
export const FOLLOW_UP_KINDS = ['call', 'email'] as const;
export type FollowUpKind = (typeof FOLLOW_UP_KINDS)[number];

/**
 * An open task on a record's activity timeline for a person to act on, e.g. a text thread a rep
 * escalated to a call or an email (HubSpot: a CALL/EMAIL task; Salesforce: a Call/Email Task).
 */
export interface FollowUpTask {
  kind: FollowUpKind;
  /** One line; cut to what the CRM takes (Salesforce: 255 characters). */
  subject: string;
  /** Plain text, shown as the task's notes. */
  body: string;
  /** When it is due; the moment of creation when absent. Date-only CRMs take its UTC date. */
  dueAt?: Date | null;
  /**
   * The CRM user who should do it, by email. When no active CRM user has that email (or the
   * connection may not read users), the task goes to the CRM's default owner instead.
   */
  assigneeEmail?: string | null;
}

/** A task the CRM created, by its id there. */
export interface CreatedFollowUp {
  id: string;
}

/** A payment request's status as the CRM shows it (the relay's own statuses, forward only). */
export const CRM_PAYMENT_STATUSES = PAYMENT_STATUS_VALUES;
export type CrmPaymentStatus = (typeof CRM_PAYMENT_STATUSES)[number];

/**
 * A payment request as a CRM record shows it: what was asked, its status, and at most the card's
 * brand and last 4 (the relay never holds more card data than that).
 */
export interface CrmPayment {
  /** The relay's payment request id: the idempotency key of the CRM entry. */
  requestId: string;
  contact: ContactRef;
  status: CrmPaymentStatus;
  amountMinor: number;
  /** ISO 4217, lower case as the relay stores it. */
  currency: string;
  description: string;
  /** What the rep typed as the invoice or deal reference; see crm-plugins/payment-entry.ts for deal rules. */
  reference: string | null;
  card: { brand: string; last4: string } | null;
  /** When the money arrived (the status change to paid), null before. */
  paidAt: Date | null;
  expiresAt: Date;
  refundedMinor: number;
  /** When the request was made, and when its status last changed. */
  createdAt: Date;
  updatedAt: Date;
  /**
   * The entry id an earlier recordPayment returned for this request, when the caller kept it: a
   * CRM whose search lags behind its writes (HubSpot, seconds) still finds the entry by it.
   */
  entryId?: string | null;
}

/** What recordPayment wrote: the one entry of the request, and the deal it named, if any. */
export interface RecordedPayment {
  /** The entry's id in the CRM (HubSpot note, Salesforce Task, sandbox entry). */
  entryId: string;
  /** False when an earlier call had made the entry and this one rewrote it. */
  created: boolean;
  /** The deal (HubSpot) or opportunity (Salesforce) the reference names; `updated` false if it is gone. */
  deal: { id: string; updated: boolean } | null;
}

export interface UninstallReport {
  removed: string[];
  absent: string[];
}

/**
 * What the relay needs from a CRM: look contacts up, keep each record's SMS consent and message
 * history, and hear about opt-outs made in the CRM. Methods throw CrmError subclasses only.
 */
export interface CrmPlugin {
  readonly id: CrmId;
  readonly label: string;
  /** Reads the CRM's current schema and lists what install would create (no writes). */
  planInstall(): Promise<InstallPlan>;
  /** Creates the fields the relay writes; idempotent, and safe to run with a stale plan. */
  install(plan?: InstallPlan): Promise<InstallReport>;
  /** Removes what install created; timeline entries already logged stay on the records. */
  uninstall(): Promise<UninstallReport>;
  findContactById(ref: ContactRef): Promise<CrmContact | null>;
  findContactsByPhone(phoneE164: string): Promise<CrmContact[]>;
  /**
   * Creates a record for a number the CRM does not know (HubSpot: a contact; Salesforce: a lead),
   * e.g. for an inbound text from a stranger when the org asks for it.
   */
  createContact(input: NewCrmContact): Promise<CrmContact>;
  /** Writes consent onto the record; throws CrmNotFoundError if the record is gone. */
  projectConsent(ref: ContactRef, consent: ConsentProjection): Promise<void>;
  /** Logs messages on their records' timelines; a retried batch never creates a second entry. */
  appendMessages(batch: readonly CrmMessage[]): Promise<AppendResult>;
  /**
   * Rewrites already logged entries with the messages' current delivery status (found by the
   * relay's message id); never creates a second entry.
   */
  updateMessages(batch: readonly CrmMessage[]): Promise<UpdateResult>;
  /**
   * Creates an open follow-up task on the record (not idempotent: each call is a new task).
   * Needs no install. Throws CrmNotFoundError if the record is gone or belongs to another CRM.
   */
  createFollowUpTask(ref: ContactRef, task: FollowUpTask): Promise<CreatedFollowUp>;
  /**
   * Creates or rewrites the one entry of a payment request on the record (keyed by the request id:
   * a retry or a later status never makes a second one), and, when the reference names a deal or
   * opportunity, its payment fields. Throws CrmNotFoundError if the record is gone.
   */
  recordPayment(payment: CrmPayment): Promise<RecordedPayment>;
  /** Consent statuses changed in the CRM (not by the relay) after the watermark. */
  readConsentChanges(since: string | null): Promise<ConsentChangesPage>;
  healthCheck(): Promise<CrmHealth>;
  /** The quota as of the latest answer, or null before any (or if the CRM reports none). */
  usage(): CrmUsage | null;
}
