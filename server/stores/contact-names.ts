import type { CrmContact } from '../../crm-plugins/types.ts';
import type { Queryable } from '../db/database.ts';
import { newId } from '../ids.ts';
import { phoneToken } from './phone-columns.ts';

/**
 * Keeps the CRM's name of a record the relay texts (or may text) with its number, so the inbox can
 * list and search conversations by name without asking the CRM for every row. Written only when
 * the name changed; a record without an E.164 number is not kept.
 */
export async function rememberContactName(
  db: Queryable,
  orgId: string,
  contact: CrmContact,
  phoneE164: string,
): Promise<void> {
  const name = contact.name.trim().slice(0, 200);
  if (name === '' || !/^\+\d{6,15}$/.test(phoneE164)) return;
  await db.query(
    `INSERT INTO contacts (id, org_id, phone_e164, display_name, crm, crm_object, crm_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (org_id, crm, crm_object, crm_id)
     DO UPDATE SET display_name = EXCLUDED.display_name
       WHERE contacts.display_name IS DISTINCT FROM EXCLUDED.display_name`,
    [
      newId(),
      orgId,
      phoneToken(db, phoneE164),
      name,
      contact.ref.crm,
      contact.ref.objectType,
      contact.ref.id,
    ],
  );
}
