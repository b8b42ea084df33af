import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHubSpotCrm } from '../../crm-plugins/hubspot/index.ts';
import { createSalesforceCrm } from '../../crm-plugins/salesforce/index.ts';
import { createSandboxCrm } from '../../crm-plugins/sandbox/index.ts';
import type {
  ContactRef,
  CrmConsentStatus,
  CrmId,
  CrmPlugin,
  FollowUpKind,
} from '../../crm-plugins/types.ts';
import { startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { startSalesforceFake } from '../fakes/salesforce-fake.ts';

/** What a CRM user would see on a record. */
export interface ConsentView {
  status: string | null;
  source: string | null;
  updatedAt: Date | null;
  lastSmsAt: Date | null;
}

/** A follow-up task as a CRM user would see it in the record's task list. */
export interface FollowUpView {
  id: string;
  kind: FollowUpKind | 'other';
  subject: string;
  body: string;
  /** Not started or in progress (not completed). */
  open: boolean;
  /** Due date, YYYY-MM-DD (UTC). */
  due: string;
  /** Email of the CRM user it is assigned to, or null for the CRM's default/unassigned. */
  assignee: string | null;
}

/** A payment request's entry on a record, as a CRM user would read it. */
export interface PaymentEntryView {
  id: string;
  /** The relay's payment request id the entry is keyed by. */
  key: string;
  /** Title and body together, as plain text. */
  text: string;
  /** Salesforce: the Task's Status; elsewhere null. */
  taskStatus: string | null;
}

/** A deal's (opportunity's) payment fields. */
export interface DealView {
  status: string | null;
  amount: number | null;
  currency: string | null;
  paidAt: Date | null;
}

/** One plugin under test plus the CRM behind it, seen from the CRM's side. */
export interface Harness {
  crm: CrmId;
  plugin: CrmPlugin;
  supportsLeads: boolean;
  seed(input: {
    objectType: ContactRef['objectType'];
    first: string;
    last: string;
    phone?: string;
    mobile?: string;
  }): ContactRef;
  consent(ref: ContactRef): ConsentView;
  timelineKeys(ref: ContactRef): string[];
  /** What each entry on the record's timeline says (its heading), in no particular order. */
  timelineText(ref: ContactRef): string[];
  setConsentInCrm(ref: ContactRef, status: CrmConsentStatus): void;
  failNextAppendFor(keys: readonly string[]): void;
  /** Follow-up tasks (calls and emails) on the record. */
  followUps(ref: ContactRef): FollowUpView[];
  /** Follow-up tasks on every record. */
  followUpCount(): number;
  /** A CRM user (by email) tasks can be assigned to. */
  addCrmUser(email: string): void;
  /** The next task creation fails once with a transient vendor error (5xx). */
  failNextFollowUp(): void;
  schema(): unknown;
  /** Payment request entries on the record. */
  payments(ref: ContactRef): PaymentEntryView[];
  /** Every payment entry in the CRM, on any record. */
  paymentCount(): number;
  /** A deal (opportunity) as a reference names it, or null where the CRM has none. */
  addDeal(): { id: string; reference: string } | null;
  deal(id: string): DealView | null;
  /** HubSpot only: its search index trails writes (see the fake's lagSearch). */
  lagSearch?(on: boolean): void;
  /** HubSpot only: the next `count` requests to deals fail as a token without the deals scopes would. */
  denyDeals?(count: number): void;
  /** Requests that could change the CRM (anything but reads and searches). */
  writeCalls(): number;
  resetCalls(): void;
  close(): Promise<void>;
}

const date = (v: unknown) =>
  typeof v === 'string' && v !== '' ? new Date(Date.parse(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))) : null;
const str = (v: unknown) => (typeof v === 'string' ? v : null);

export async function hubspotHarness(): Promise<Harness> {
  const fake = await startHubSpotFake();
  const plugin = createHubSpotCrm({ accessToken: fake.accessToken, basePath: fake.baseUrl });
  const props = (ref: ContactRef) => fake.contact(ref.id)?.properties ?? {};
  const kinds: Record<string, FollowUpKind> = { CALL: 'call', EMAIL: 'email' };
  const hubspotTaskView = (t: ReturnType<typeof fake.tasks>[number]): FollowUpView => ({
    id: t.id,
    kind: kinds[String(t.properties.hs_task_type)] ?? 'other',
    subject: String(t.properties.hs_task_subject ?? ''),
    body: String(t.properties.hs_task_body ?? ''),
    open: t.properties.hs_task_status !== 'COMPLETED',
    due: String(t.properties.hs_timestamp ?? '').slice(0, 10),
    assignee: fake.ownerEmail(String(t.properties.hubspot_owner_id ?? '')) ?? null,
  });
  return {
    crm: 'hubspot',
    plugin,
    supportsLeads: false,
    seed: ({ first, last, phone, mobile }) => ({
      crm: 'hubspot',
      objectType: 'contact',
      id: fake.addContact({
        firstname: first,
        lastname: last,
        phone: phone ?? null,
        mobilephone: mobile ?? null,
      }),
    }),
    consent: (ref) => ({
      status: str(props(ref).sms_consent_status),
      source: str(props(ref).sms_consent_source),
      updatedAt: date(props(ref).sms_consent_updated_at),
      lastSmsAt: date(props(ref).sms_last_sms_at),
    }),
    timelineKeys: (ref) =>
      fake
        .communications()
        .filter((c) => c.associations.includes(ref.id))
        .map((c) => String(c.properties.sms_relay_message_id)),
    timelineText: (ref) =>
      fake
        .communications()
        .filter((c) => c.associations.includes(ref.id))
        .map((c) => String(c.properties.hs_communication_body).split('\n')[0] ?? ''),
    setConsentInCrm: (ref, status) => fake.setContactProperty(ref.id, 'sms_consent_status', status),
    failNextAppendFor: (keys) => fake.failNextCommunicationsFor(keys),
    followUps: (ref) =>
      fake
        .tasks()
        .filter((t) => t.associations.includes(ref.id))
        .map(hubspotTaskView),
    followUpCount: () => fake.tasks().length,
    addCrmUser: (email) => {
      fake.addOwner({ email });
    },
    failNextFollowUp: () =>
      fake.injectFaults(
        [{ kind: 'server_error', status: 503 }],
        (method, path) => method === 'POST' && path === '/crm/v3/objects/tasks',
      ),
    schema: () => ({
      contacts: fake.propertyNames('contacts'),
      communications: fake.propertyNames('communications'),
      notes: fake.propertyNames('notes'),
      deals: fake.propertyNames('deals'),
    }),
    payments: (ref) =>
      fake
        .notes()
        .filter((n) => n.associations.includes(ref.id))
        .map((n) => ({
          id: n.id,
          key: String(n.properties.sms_relay_payment_request_id),
          text: String(n.properties.hs_note_body ?? '')
            .split('<br>')
            .join('\n')
            .replace(/<[^>]+>/g, '')
            // As the note shows once rendered: the relay escapes the text it puts into the HTML.
            .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code))),
          taskStatus: null,
        })),
    paymentCount: () => fake.notes().length,
    lagSearch: (on) => fake.lagSearch(on),
    denyDeals: (count) =>
      fake.injectFaults(
        Array.from({ length: count }, () => ({ kind: 'missing_scopes' as const })),
        (_method, path) => /\/deals(\/|$)/.test(path),
      ),
    addDeal: () => {
      const id = fake.addDeal({ dealname: 'Kitchen remodel' });
      return { id, reference: `deal:${id}` };
    },
    deal: (id) => {
      const p = fake.deal(id)?.properties;
      if (p === undefined) return null;
      return {
        status: str(p.sms_payment_status),
        amount: p.sms_payment_amount == null ? null : Number(p.sms_payment_amount),
        currency: str(p.sms_payment_currency),
        paidAt: date(p.sms_payment_paid_at),
      };
    },
    writeCalls: () => fake.callCount((c) => c.method !== 'GET' && !c.path.endsWith('/search')),
    resetCalls: () => fake.resetCalls(),
    close: () => fake.close(),
  };
}

/** @salesforce/core writes under HOME and logs to a file unless told not to. */
export function isolateSalesforceHome(): () => void {
  const previous = { home: process.env.HOME, log: process.env.SF_DISABLE_LOG_FILE };
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-home-'));
  process.env.HOME = home;
  process.env.SF_DISABLE_LOG_FILE = 'true';
  return () => {
    // Removes the directory it made, never whatever HOME points at by now.
    fs.rmSync(home, { recursive: true, force: true });
    if (previous.home === undefined) delete process.env.HOME;
    else process.env.HOME = previous.home;
  };
}

export async function salesforceHarness(): Promise<Harness> {
  const fake = await startSalesforceFake();
  const plugin = createSalesforceCrm({ accessToken: fake.accessToken, instanceUrl: fake.instanceUrl });
  const owner = fake.addRecord('User', { Email: 'owner@example.com', Name: 'Olive Owner' });
  const type = (ref: ContactRef) => (ref.objectType === 'lead' ? 'Lead' : 'Contact');
  const row = (ref: ContactRef) => fake.record(type(ref), ref.id) ?? {};
  const subtypes: Record<string, FollowUpKind> = { Call: 'call', Email: 'email' };
  const followUpTasks = () =>
    fake.records('Task').filter((t) => t.TaskSubtype === 'Call' || t.TaskSubtype === 'Email');
  return {
    crm: 'salesforce',
    plugin,
    supportsLeads: true,
    seed: ({ objectType, first, last, phone, mobile }) => ({
      crm: 'salesforce',
      objectType,
      id: fake.addRecord(objectType === 'lead' ? 'Lead' : 'Contact', {
        FirstName: first,
        LastName: last,
        Phone: phone ?? null,
        MobilePhone: mobile ?? null,
        OwnerId: owner,
        ...(objectType === 'lead' ? { Company: 'Acme' } : {}),
      }),
    }),
    consent: (ref) => ({
      status: str(row(ref).SMS_Consent_Status__c),
      source: str(row(ref).SMS_Consent_Source__c),
      updatedAt: date(row(ref).SMS_Consent_Updated_At__c),
      lastSmsAt: date(row(ref).SMS_Last_SMS_At__c),
    }),
    timelineKeys: (ref) =>
      fake
        .records('Task')
        .filter((t) => t.WhoId === ref.id)
        .map((t) => String(t.SMS_Relay_Message_Id__c)),
    timelineText: (ref) =>
      fake
        .records('Task')
        .filter((t) => t.WhoId === ref.id)
        .map((t) => String(t.Subject)),
    setConsentInCrm: (ref, status) => fake.setField(type(ref), ref.id, 'SMS_Consent_Status__c', status),
    failNextAppendFor: (keys) => fake.failNextTasksFor(keys),
    followUps: (ref) =>
      followUpTasks()
        .filter((t) => t.WhoId === ref.id)
        .map((t) => ({
          id: String(t.Id),
          kind: subtypes[String(t.TaskSubtype)] ?? 'other',
          subject: String(t.Subject ?? ''),
          body: String(t.Description ?? ''),
          open: t.Status !== 'Completed',
          due: String(t.ActivityDate ?? ''),
          // Without an owner the Task would belong to the connected (integration) user.
          assignee: t.OwnerId === null ? null : str(fake.record('User', String(t.OwnerId))?.Email),
        })),
    followUpCount: () => followUpTasks().length,
    addCrmUser: (email) => {
      fake.addRecord('User', { Email: email, Name: email });
    },
    failNextFollowUp: () =>
      fake.injectFaults(
        [{ kind: 'server_error', status: 503 }],
        (method, path) => method === 'POST' && path.endsWith('/sobjects/Task'),
      ),
    schema: () => ({
      fields: fake.customFieldNames(),
      grants: fake.records('FieldPermissions').map((r) => r.Field),
    }),
    payments: (ref) =>
      fake
        .records('Task')
        .filter((t) => t.WhoId === ref.id && t.SMS_Payment_Request_Id__c != null)
        .map((t) => ({
          id: String(t.Id),
          key: String(t.SMS_Payment_Request_Id__c),
          text: `${String(t.Subject)}\n${String(t.Description)}`,
          taskStatus: str(t.Status),
        })),
    paymentCount: () => fake.records('Task').filter((t) => t.SMS_Payment_Request_Id__c != null).length,
    addDeal: () => {
      const id = fake.addRecord('Opportunity', {
        Name: 'Kitchen remodel',
        StageName: 'Prospecting',
        CloseDate: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
      });
      return { id, reference: id };
    },
    deal: (id) => {
      const r = fake.record('Opportunity', id);
      if (r === undefined) return null;
      return {
        status: str(r.SMS_Payment_Status__c),
        amount: typeof r.SMS_Payment_Amount__c === 'number' ? r.SMS_Payment_Amount__c : null,
        currency: str(r.SMS_Payment_Currency__c),
        paidAt: date(r.SMS_Payment_Paid_At__c),
      };
    },
    writeCalls: () => fake.callCount((c) => c.method !== 'GET'),
    resetCalls: () => fake.resetCalls(),
    close: () => fake.close(),
  };
}

export async function sandboxHarness(): Promise<Harness> {
  const plugin = createSandboxCrm({ contacts: [], installed: false });
  const seeded: ContactRef[] = [];
  return {
    crm: 'sandbox',
    plugin,
    supportsLeads: true,
    seed: ({ objectType, first, last, phone, mobile }) => {
      const ref = plugin.addContact({
        objectType,
        name: `${first} ${last}`,
        ...(phone === undefined ? {} : { phone }),
        ...(mobile === undefined ? {} : { mobilePhone: mobile }),
      });
      seeded.push(ref);
      return ref;
    },
    consent: (ref) => {
      const f = plugin.consentFields(ref);
      return {
        status: f?.status ?? null,
        source: f?.source ?? null,
        updatedAt: f?.updatedAt ?? null,
        lastSmsAt: f?.lastSmsAt ?? null,
      };
    },
    timelineKeys: (ref) => plugin.timeline(ref).map((e) => e.externalKey),
    timelineText: (ref) => plugin.timeline(ref).map((e) => e.title),
    setConsentInCrm: (ref, status) => plugin.setConsentInCrm(ref, status),
    failNextAppendFor: (keys) => plugin.failNextAppendFor(keys),
    followUps: (ref) =>
      plugin.followUps(ref).map((f) => ({
        id: f.id,
        kind: f.kind,
        subject: f.subject,
        body: f.body,
        open: f.status !== 'completed',
        due: f.dueAt.toISOString().slice(0, 10),
        assignee: f.assigneeEmail,
      })),
    followUpCount: () => seeded.reduce((n, ref) => n + plugin.followUps(ref).length, 0),
    addCrmUser: (email) => plugin.addUser(email),
    failNextFollowUp: () => plugin.failNextFollowUp(),
    schema: async () => (await plugin.planInstall()).steps.map((s) => `${s.target}:${s.action}`),
    payments: (ref) =>
      plugin.payments(ref).map((p) => ({
        id: p.id,
        key: p.requestId,
        text: `${p.title}\n${p.body}`,
        taskStatus: null,
      })),
    paymentCount: () => seeded.reduce((n, ref) => n + plugin.payments(ref).length, 0),
    addDeal: () => null,
    deal: () => null,
    writeCalls: () => 0,
    resetCalls: () => {},
    close: async () => {},
  };
}

/** Every plugin under test, for the suites that run against each (describe.each). */
export const CRM_IMPLEMENTATIONS: [string, () => Promise<Harness>][] = [
  ['sandbox', sandboxHarness],
  ['hubspot (real SDK against the fake)', hubspotHarness],
  ['salesforce (real SDK against the fake)', salesforceHarness],
];
