import type { ContactRef, CrmConsentStatus, CrmContact, CrmPlugin } from '../types.ts';
import { projectSandboxConsent, readSandboxConsentChanges, setSandboxConsentInCrm } from './consent.ts';
import {
  createSandboxContact,
  DEMO_CONTACTS,
  findSandboxContactsByPhone,
  toSandboxContact,
} from './contacts.ts';
import { createSandboxFollowUp, sandboxFollowUps } from './follow-ups.ts';
import { checkSandboxHealth, installSandbox, planSandboxInstall, uninstallSandbox } from './install.ts';
import type { SandboxTimelineEntry } from './mapping.ts';
import { appendSandboxMessages, updateSandboxMessages } from './message-log.ts';
import { recordSandboxPayment, sandboxPayments } from './payments.ts';
import {
  type NewSandboxRecord,
  type SandboxConsentFields,
  type SandboxFollowUp,
  type SandboxPaymentEntry,
  SandboxStore,
} from './store.ts';

export type { SandboxTimelineEntry } from './mapping.ts';
export type { SandboxConsentFields, SandboxFollowUp, SandboxPaymentEntry } from './store.ts';

export interface SandboxCrmOptions {
  contacts?: readonly CrmContact[];
  /** The demo starts installed; the contract tests start from an empty schema. */
  installed?: boolean;
  now?: () => Date;
}

/** The sandbox CRM plus the handles a demo page or a test uses to act as a CRM user. */
export interface SandboxCrm extends CrmPlugin {
  addContact(input: NewSandboxRecord): ContactRef;
  /** Sets the consent status the way a CRM user would, in the CRM's own UI. */
  setConsentInCrm(ref: ContactRef, status: CrmConsentStatus): void;
  consentFields(ref: ContactRef): SandboxConsentFields | null;
  timeline(ref: ContactRef): SandboxTimelineEntry[];
  /** The next appendMessages refuses these keys once, like a CRM's partial batch failure. */
  failNextAppendFor(keys: readonly string[]): void;
  /** Follow-up tasks on the record, oldest first. */
  followUps(ref: ContactRef): SandboxFollowUp[];
  /** A CRM user tasks can be assigned to (by email); the sandbox starts with none. */
  addUser(email: string): void;
  /** The next createFollowUpTask fails once as if the CRM were down (retryable). */
  failNextFollowUp(): void;
  /** Payment request entries on the record, oldest first. */
  payments(ref: ContactRef): SandboxPaymentEntry[];
  /** The next recordPayment fails once as if the CRM were down (retryable). */
  failNextPayment(): void;
}

/** The demo records every sandbox CRM starts with; part of the plugin's public surface for demo pages. */
export { DEMO_CONTACTS } from './contacts.ts';

/** Whether a registered plugin is the sandbox CRM, with its demo handles (tasks, timeline…). */
export function isSandboxCrm(plugin: CrmPlugin): plugin is SandboxCrm {
  return plugin.id === 'sandbox' && typeof (plugin as Partial<SandboxCrm>).followUps === 'function';
}

/**
 * The sandbox CRM: in-memory records that behave like a real CRM for the relay (schema install,
 * consent fields, idempotent timeline, CRM-side consent edits), so the product runs with no account.
 */
export function createSandboxCrm(options: SandboxCrmOptions = {}): SandboxCrm {
  const store = new SandboxStore(
    options.now ?? (() => new Date()),
    options.contacts ?? DEMO_CONTACTS,
    options.installed !== false,
  );

  return {
    id: 'sandbox',
    label: 'Sandbox CRM',

    planInstall: () => planSandboxInstall(store),
    install: (plan) => installSandbox(store, plan),
    uninstall: () => uninstallSandbox(store),

    async findContactById(ref) {
      const record = store.recordOf(ref);
      return record === undefined ? null : toSandboxContact(record);
    },
    findContactsByPhone: (phoneE164) => findSandboxContactsByPhone(store, phoneE164),
    createContact: (input) => createSandboxContact(store, input),

    projectConsent: (ref, consent) => projectSandboxConsent(store, ref, consent),

    appendMessages: (batch) => appendSandboxMessages(store, batch),
    updateMessages: (batch) => updateSandboxMessages(store, batch),

    createFollowUpTask: (ref, task) => createSandboxFollowUp(store, ref, task),

    recordPayment: (payment) => recordSandboxPayment(store, payment),

    readConsentChanges: (since) => readSandboxConsentChanges(store, since),

    usage() {
      return null;
    },

    healthCheck: () => checkSandboxHealth(store),

    addContact: (input) => store.addContact(input),
    setConsentInCrm: (ref, status) => setSandboxConsentInCrm(store, ref, status),
    consentFields(ref) {
      const record = store.recordOf(ref);
      return record === undefined ? null : { ...record.consent };
    },
    timeline(ref) {
      return [...(store.recordOf(ref)?.timeline ?? [])];
    },
    failNextAppendFor: (keys) => store.failNextAppendFor(keys),
    followUps: (ref) => sandboxFollowUps(store, ref),
    addUser: (email) => store.addUser(email),
    failNextFollowUp: () => store.failNextFollowUp(),
    payments: (ref) => sandboxPayments(store, ref),
    failNextPayment: () => store.failNextPayment(),
  };
}
