import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHubSpotCrm } from '../../crm-plugins/hubspot/index.ts';
import { createSalesforceCrm } from '../../crm-plugins/salesforce/index.ts';
import { createSandboxCrm } from '../../crm-plugins/sandbox/index.ts';
import type { ContactRef, CrmConsentStatus, CrmId, CrmPlugin } from '../../crm-plugins/types.ts';
import { startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { startSalesforceFake } from '../fakes/salesforce-fake.ts';

/** What a CRM user would see on a record. */
export interface ConsentView {
  status: string | null;
  source: string | null;
  updatedAt: Date | null;
  lastSmsAt: Date | null;
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
  schema(): unknown;
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
    schema: () => ({
      contacts: fake.propertyNames('contacts'),
      communications: fake.propertyNames('communications'),
    }),
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
    schema: () => ({
      fields: fake.customFieldNames(),
      grants: fake.records('FieldPermissions').map((r) => r.Field),
    }),
    writeCalls: () => fake.callCount((c) => c.method !== 'GET'),
    resetCalls: () => fake.resetCalls(),
    close: () => fake.close(),
  };
}

export async function sandboxHarness(): Promise<Harness> {
  const plugin = createSandboxCrm({ contacts: [], installed: false });
  return {
    crm: 'sandbox',
    plugin,
    supportsLeads: true,
    seed: ({ objectType, first, last, phone, mobile }) =>
      plugin.addContact({
        objectType,
        name: `${first} ${last}`,
        ...(phone === undefined ? {} : { phone }),
        ...(mobile === undefined ? {} : { mobilePhone: mobile }),
      }),
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
    schema: async () => (await plugin.planInstall()).steps.map((s) => `${s.target}:${s.action}`),
    writeCalls: () => 0,
    resetCalls: () => {},
    close: async () => {},
  };
}
