import type { CrmContact } from '../types.ts';

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
