import { CrmRequestError } from '../errors.ts';
import { toE164 } from '../phone.ts';
import type { CrmContact, NewCrmContact } from '../types.ts';
import type { SandboxRecord, SandboxStore } from './store.ts';

/**
 * Demo records of the sandbox CRM. The numbers are in the reserved 555-01xx range (and the UK's
 * 07700 900xxx drama range); the one ending in 0199 is one the sandbox SMS network reports as
 * undelivered, to show failures. Their time zones are spread so that, at any hour, quiet hours
 * allow texting at least one of them: a newcomer's first text never has to wait for a morning.
 */
export const DEMO_CONTACTS: readonly CrmContact[] = [
  {
    ref: { crm: 'sandbox', objectType: 'contact', id: 'c-1001' },
    name: 'Dana Whitfield',
    phones: ['+12025550143'],
    timeZone: 'America/New_York',
    ownerEmail: null,
  },
  {
    ref: { crm: 'sandbox', objectType: 'contact', id: 'c-1002' },
    name: 'Marco Alvarez',
    phones: ['+13125550178'],
    timeZone: 'America/Chicago',
    ownerEmail: null,
  },
  {
    ref: { crm: 'sandbox', objectType: 'contact', id: 'c-1003' },
    name: 'Priya Natarajan',
    phones: ['+14155550132'],
    timeZone: 'America/Los_Angeles',
    ownerEmail: null,
  },
  {
    ref: { crm: 'sandbox', objectType: 'lead', id: 'l-2001' },
    name: 'Sam Okafor',
    phones: ['+13035550161'],
    timeZone: 'America/Denver',
    ownerEmail: null,
  },
  {
    ref: { crm: 'sandbox', objectType: 'contact', id: 'c-1005' },
    name: 'Keoni Kahale',
    phones: ['+18085550124'],
    timeZone: 'Pacific/Honolulu',
    ownerEmail: null,
  },
  {
    ref: { crm: 'sandbox', objectType: 'contact', id: 'c-1006' },
    name: 'Maria Cruz',
    phones: ['+16715550147'],
    timeZone: 'Pacific/Guam',
    ownerEmail: null,
  },
  {
    ref: { crm: 'sandbox', objectType: 'contact', id: 'c-1007' },
    name: 'Olivia Bennett',
    phones: ['+447700900461'],
    timeZone: 'Europe/London',
    ownerEmail: null,
  },
  {
    ref: { crm: 'sandbox', objectType: 'contact', id: 'c-1004' },
    name: 'Unreachable Phone (demo)',
    phones: ['+16175550199'],
    timeZone: 'America/New_York',
    ownerEmail: null,
  },
];

/** A sandbox record as the relay sees a contact: its phones in E.164, mobile first, without repeats. */
export function toSandboxContact(r: SandboxRecord): CrmContact {
  const phones = [r.mobilePhone, r.phone].map((p) => toE164(p, 'US')).filter((p) => p !== null);
  return {
    ref: r.ref,
    name: r.name,
    phones: [...new Set(phones)],
    timeZone: r.timeZone,
    ownerEmail: r.ownerEmail,
  };
}

/** The records whose phone numbers normalise to this one. */
export async function findSandboxContactsByPhone(
  store: SandboxStore,
  phoneE164: string,
): Promise<CrmContact[]> {
  const wanted = toE164(phoneE164, 'US');
  if (wanted === null) return [];
  return [...store.records.values()].map(toSandboxContact).filter((c) => c.phones.includes(wanted));
}

/** Creates a contact with this phone number and optional name. */
export async function createSandboxContact(store: SandboxStore, input: NewCrmContact): Promise<CrmContact> {
  const phone = toE164(input.phoneE164, 'US');
  if (phone === null)
    throw new CrmRequestError('sandbox', 'invalid_request', `not a phone number: ${input.phoneE164}`);
  const ref = store.addContact({
    objectType: 'contact',
    name: input.name ?? `SMS ${phone}`,
    mobilePhone: phone,
  });
  return toSandboxContact(store.requireRecord(ref));
}
