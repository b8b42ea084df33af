import type { CrmContact } from '../types.ts';

/**
 * Demo records of the sandbox CRM. The numbers are in the reserved 555-01xx range; the one
 * ending in 0199 is one the sandbox SMS network reports as undelivered, to show failures.
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
    ref: { crm: 'sandbox', objectType: 'contact', id: 'c-1004' },
    name: 'Unreachable Phone (demo)',
    phones: ['+16175550199'],
    timeZone: 'America/New_York',
    ownerEmail: null,
  },
];
