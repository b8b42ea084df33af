import type { ContactRef, CrmContact, CrmPlugin } from '../types.ts';
import { DEMO_CONTACTS } from './contacts.ts';

/** The sandbox CRM: a read-only set of demo contacts so the product runs with no CRM account. */
export function createSandboxCrm(contacts: readonly CrmContact[] = DEMO_CONTACTS): CrmPlugin {
  return {
    id: 'sandbox',
    label: 'Sandbox CRM',
    async findContactById(ref: ContactRef) {
      return contacts.find((c) => c.ref.id === ref.id && ref.crm === 'sandbox') ?? null;
    },
    async findContactsByPhone(phone: string) {
      return contacts.filter((c) => c.phones.includes(phone));
    },
    async healthCheck() {
      return { ok: true, detail: `${contacts.length} demo contacts` };
    },
  };
}
