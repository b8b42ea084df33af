import { CrmNotFoundError, CrmRequestError, CrmUnavailableError } from '../errors.ts';
import { toE164 } from '../phone.ts';
import type {
  AppendResult,
  ConsentChangesPage,
  ConsentProjection,
  ContactRef,
  CrmConsentStatus,
  CrmContact,
  CrmMessage,
  CrmPlugin,
  FollowUpKind,
  FollowUpTask,
  InstallPlan,
  InstallStep,
  UpdateResult,
} from '../types.ts';
import { DEMO_CONTACTS } from './contacts.ts';
import { SANDBOX_FIELDS, type SandboxTimelineEntry, sandboxPlan, toSandboxEntry } from './mapping.ts';

export type { SandboxTimelineEntry } from './mapping.ts';

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

/** Consent fields of a sandbox record, as a CRM user would see them. */
export interface SandboxConsentFields {
  status: CrmConsentStatus | null;
  updatedAt: Date | null;
  source: string | null;
  lastSmsAt: Date | null;
}

interface SandboxRecord {
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
}

export interface SandboxCrmOptions {
  contacts?: readonly CrmContact[];
  /** The demo starts installed; the contract tests start from an empty schema. */
  installed?: boolean;
  now?: () => Date;
}

/** The sandbox CRM plus the handles a demo page or a test uses to act as a CRM user. */
export interface SandboxCrm extends CrmPlugin {
  addContact(input: {
    objectType: ContactRef['objectType'];
    name: string;
    phone?: string;
    mobilePhone?: string;
  }): ContactRef;
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
  const now = options.now ?? (() => new Date());
  const installedFields = new Set<string>(
    options.installed === false ? [] : SANDBOX_FIELDS.map((f) => f.target),
  );
  const records = new Map<string, SandboxRecord>();
  const loggedKeys = new Map<string, ContactRef>();
  let failOnce = new Set<string>();
  let failNextFollowUp = false;
  const users = new Set<string>();
  let seq = 0;
  let nextId = 5000;
  let nextTaskId = 0;

  const keyOf = (ref: ContactRef) => `${ref.objectType}:${ref.id}`;
  const touch = (record: SandboxRecord) => {
    seq += 1;
    record.modSeq = seq;
    record.modifiedAt = now();
  };
  const add = (
    c: Omit<SandboxRecord, 'consent' | 'projected' | 'modSeq' | 'modifiedAt' | 'timeline' | 'followUps'>,
  ) => {
    const record: SandboxRecord = {
      ...c,
      consent: { status: null, updatedAt: null, source: null, lastSmsAt: null },
      projected: null,
      modSeq: 0,
      modifiedAt: now(),
      timeline: [],
      followUps: [],
    };
    touch(record);
    records.set(keyOf(c.ref), record);
    return record;
  };
  for (const c of options.contacts ?? DEMO_CONTACTS) {
    add({
      ref: c.ref,
      name: c.name,
      phone: c.phones[1] ?? null,
      mobilePhone: c.phones[0] ?? null,
      timeZone: c.timeZone,
      ownerEmail: c.ownerEmail,
    });
  }

  const toContact = (r: SandboxRecord): CrmContact => {
    const phones = [r.mobilePhone, r.phone].map((p) => toE164(p, 'US')).filter((p) => p !== null);
    return {
      ref: r.ref,
      name: r.name,
      phones: [...new Set(phones)],
      timeZone: r.timeZone,
      ownerEmail: r.ownerEmail,
    };
  };
  const recordOf = (ref: ContactRef) => (ref.crm === 'sandbox' ? records.get(keyOf(ref)) : undefined);
  const requireInstalled = () => {
    if (installedFields.size < SANDBOX_FIELDS.length) {
      throw new CrmRequestError(
        'sandbox',
        'not_installed',
        'SMS fields are not installed; run install first',
      );
    }
  };

  const plugin: SandboxCrm = {
    id: 'sandbox',
    label: 'Sandbox CRM',

    async planInstall(): Promise<InstallPlan> {
      return sandboxPlan((target) => installedFields.has(target));
    },
    async install(plan?: InstallPlan) {
      const steps: InstallStep[] = (plan ?? sandboxPlan((t) => installedFields.has(t))).steps;
      const report = { created: [] as string[], alreadyPresent: [] as string[] };
      for (const step of steps) {
        if (installedFields.has(step.target)) report.alreadyPresent.push(step.target);
        else {
          installedFields.add(step.target);
          report.created.push(step.target);
        }
      }
      return report;
    },
    async uninstall() {
      const removed = [...installedFields];
      const absent = SANDBOX_FIELDS.map((f) => f.target).filter((t) => !installedFields.has(t));
      installedFields.clear();
      return { removed, absent };
    },

    async findContactById(ref) {
      const record = recordOf(ref);
      return record === undefined ? null : toContact(record);
    },
    async findContactsByPhone(phoneE164) {
      const wanted = toE164(phoneE164, 'US');
      if (wanted === null) return [];
      return [...records.values()].map(toContact).filter((c) => c.phones.includes(wanted));
    },

    async createContact(input) {
      const phone = toE164(input.phoneE164, 'US');
      if (phone === null)
        throw new CrmRequestError('sandbox', 'invalid_request', `not a phone number: ${input.phoneE164}`);
      const ref = plugin.addContact({
        objectType: 'contact',
        name: input.name ?? `SMS ${phone}`,
        mobilePhone: phone,
      });
      const record = recordOf(ref);
      if (record === undefined) throw new CrmNotFoundError('sandbox', `no ${ref.objectType} ${ref.id}`);
      return toContact(record);
    },

    async projectConsent(ref: ContactRef, consent: ConsentProjection) {
      requireInstalled();
      const record = recordOf(ref);
      if (record === undefined) throw new CrmNotFoundError('sandbox', `no ${ref.objectType} ${ref.id}`);
      record.consent = {
        ...record.consent,
        status: consent.status,
        updatedAt: consent.updatedAt,
        source: consent.source,
      };
      record.projected = consent.status;
      touch(record);
    },

    async appendMessages(batch: readonly CrmMessage[]): Promise<AppendResult> {
      requireInstalled();
      const result: AppendResult = { created: [], alreadyLogged: [], failed: [] };
      const refusing = failOnce;
      failOnce = new Set();
      const seen = new Set<string>();
      for (const message of batch) {
        if (seen.has(message.externalKey)) continue;
        seen.add(message.externalKey);
        if (loggedKeys.has(message.externalKey)) {
          result.alreadyLogged.push(message.externalKey);
          continue;
        }
        const record = recordOf(message.contact);
        if (record === undefined) {
          result.failed.push({
            externalKey: message.externalKey,
            code: 'not_found',
            message: `no ${message.contact.objectType} ${message.contact.id}`,
            retryable: false,
          });
          continue;
        }
        if (refusing.has(message.externalKey)) {
          result.failed.push({
            externalKey: message.externalKey,
            code: 'unavailable',
            message: 'sandbox refused this entry (injected failure)',
            retryable: true,
          });
          continue;
        }
        record.timeline.push(toSandboxEntry(message));
        loggedKeys.set(message.externalKey, message.contact);
        if (record.consent.lastSmsAt === null || record.consent.lastSmsAt < message.occurredAt) {
          record.consent.lastSmsAt = message.occurredAt;
        }
        touch(record);
        result.created.push(message.externalKey);
      }
      return result;
    },

    async updateMessages(batch: readonly CrmMessage[]): Promise<UpdateResult> {
      requireInstalled();
      const result: UpdateResult = { updated: [], notLogged: [], failed: [] };
      const seen = new Set<string>();
      for (const message of batch) {
        if (seen.has(message.externalKey)) continue;
        seen.add(message.externalKey);
        const ref = loggedKeys.get(message.externalKey);
        const record = ref === undefined ? undefined : recordOf(ref);
        const index = record?.timeline.findIndex((e) => e.externalKey === message.externalKey) ?? -1;
        if (record === undefined || index < 0) {
          result.notLogged.push(message.externalKey);
          continue;
        }
        record.timeline[index] = toSandboxEntry({ ...message, contact: ref ?? message.contact });
        result.updated.push(message.externalKey);
      }
      return result;
    },

    async createFollowUpTask(ref: ContactRef, task: FollowUpTask) {
      const record = recordOf(ref);
      if (record === undefined) throw new CrmNotFoundError('sandbox', `no ${ref.objectType} ${ref.id}`);
      if (failNextFollowUp) {
        failNextFollowUp = false;
        throw new CrmUnavailableError('sandbox', 'sandbox refused this task (injected failure)', null, 503);
      }
      const assignee = task.assigneeEmail?.trim().toLowerCase() ?? '';
      nextTaskId += 1;
      const created = now();
      const followUp: SandboxFollowUp = {
        id: `task-${nextTaskId}`,
        kind: task.kind,
        subject: task.subject,
        body: task.body,
        dueAt: task.dueAt ?? created,
        assigneeEmail: users.has(assignee) ? assignee : null,
        status: 'not_started',
        createdAt: created,
      };
      record.followUps.push(followUp);
      return { id: followUp.id };
    },

    async readConsentChanges(since: string | null): Promise<ConsentChangesPage> {
      const after = since === null ? 0 : Number.parseInt(since, 10);
      if (!Number.isSafeInteger(after) || after < 0) {
        throw new CrmRequestError('sandbox', 'invalid_request', `not a sandbox watermark: ${since}`);
      }
      const changes = [...records.values()]
        .filter((r) => r.modSeq > after && r.consent.status !== null && r.consent.status !== r.projected)
        .sort((a, b) => a.modSeq - b.modSeq)
        .map((r) => ({
          ref: r.ref,
          status: r.consent.status ?? 'unknown',
          changedAt: r.modifiedAt,
          source: r.consent.source,
          previouslyProjected: r.projected,
        }));
      return { changes, watermark: seq === 0 ? since : String(Math.max(seq, after)) };
    },

    usage() {
      return null;
    },

    async healthCheck() {
      const installed = installedFields.size === SANDBOX_FIELDS.length;
      return {
        ok: installed,
        detail: `${records.size} records; SMS fields ${installed ? 'installed' : 'not installed'}`,
      };
    },

    addContact(input) {
      nextId += 1;
      const prefix = input.objectType === 'lead' ? 'l' : 'c';
      const ref: ContactRef = { crm: 'sandbox', objectType: input.objectType, id: `${prefix}-${nextId}` };
      add({
        ref,
        name: input.name,
        phone: input.phone ?? null,
        mobilePhone: input.mobilePhone ?? null,
        timeZone: null,
        ownerEmail: null,
      });
      return ref;
    },
    setConsentInCrm(ref, status) {
      const record = recordOf(ref);
      if (record === undefined) throw new CrmNotFoundError('sandbox', `no ${ref.objectType} ${ref.id}`);
      record.consent = { ...record.consent, status };
      touch(record);
    },
    consentFields(ref) {
      const record = recordOf(ref);
      return record === undefined ? null : { ...record.consent };
    },
    timeline(ref) {
      return [...(recordOf(ref)?.timeline ?? [])];
    },
    failNextAppendFor(keys) {
      failOnce = new Set(keys);
    },
    followUps(ref) {
      return (recordOf(ref)?.followUps ?? []).map((f) => ({ ...f }));
    },
    addUser(email) {
      users.add(email.trim().toLowerCase());
    },
    failNextFollowUp() {
      failNextFollowUp = true;
    },
  };
  return plugin;
}
