import type { ContactRef } from '../../crm-plugins/types.ts';
import type { Queryable } from '../db/database.ts';
import { phoneToken } from '../stores/phone-columns.ts';
import type { CrmConnection } from './connections.ts';
import type { CrmCall } from './live-plugins.ts';

/** A "no CRM record has this number" answer is trusted this long before asking again. */
const NEGATIVE_LOOKUP_MS = 3600_000;

/**
 * Phone number → CRM records, per connection: the relay's own contacts first, then the links it
 * remembered (`crm_contact_links`), then a lookup in the CRM, remembered too (also when empty, for
 * an hour), so a busy number costs one CRM search, not one per message.
 */
export class ContactRefs {
  constructor(private readonly db: Queryable) {}

  /** The CRM records of a number: ones the relay already links, else a lookup (remembered, also when empty). */
  async forPhone(connection: CrmConnection, call: CrmCall, phone: string): Promise<ContactRef[]> {
    const { db } = this;
    const local = await db.query<{ crm_object: 'contact' | 'lead'; crm_id: string }>(
      `SELECT crm_object, crm_id FROM contacts WHERE org_id = $1 AND crm = $2 AND phone_e164 = $3 AND crm_id IS NOT NULL`,
      [connection.orgId, connection.crm, phoneToken(db, phone)],
    );
    if (local.length > 0)
      return local.map((r) => ({ crm: connection.crm, objectType: r.crm_object, id: r.crm_id }));
    const links = await db.query<{ object_type: string; ref_id: string; fresh: boolean }>(
      `SELECT object_type, ref_id, checked_at > now() - ($3::int * interval '1 millisecond') AS fresh
         FROM crm_contact_links WHERE connection_id = $1 AND phone_e164 = $2`,
      [connection.id, phoneToken(db, phone), NEGATIVE_LOOKUP_MS],
    );
    const known = links.filter((l) => l.ref_id !== '');
    if (known.length > 0)
      return known.map((l) => ({
        crm: connection.crm,
        objectType: l.object_type as 'contact' | 'lead',
        id: l.ref_id,
      }));
    if (links.some((l) => l.fresh)) return [];
    const refs = (await call((p) => p.findContactsByPhone(phone))).map((c) => c.ref);
    await db.query(`DELETE FROM crm_contact_links WHERE connection_id = $1 AND phone_e164 = $2`, [
      connection.id,
      phoneToken(db, phone),
    ]);
    if (refs.length === 0) {
      await db.query(
        `INSERT INTO crm_contact_links (connection_id, phone_e164) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [connection.id, phoneToken(db, phone)],
      );
    } else await this.remember(connection, [phone], refs);
    return refs;
  }

  /** Links these numbers to these records (replacing a remembered "no record"). */
  async remember(
    connection: CrmConnection,
    phones: readonly string[],
    refs: readonly ContactRef[],
  ): Promise<void> {
    for (const phone of phones) {
      await this.db.query(
        `DELETE FROM crm_contact_links WHERE connection_id = $1 AND phone_e164 = $2 AND ref_id = ''`,
        [connection.id, phoneToken(this.db, phone)],
      );
      for (const ref of refs) {
        await this.db.query(
          `INSERT INTO crm_contact_links (connection_id, phone_e164, object_type, ref_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (connection_id, phone_e164, object_type, ref_id) DO UPDATE SET checked_at = now()`,
          [connection.id, phoneToken(this.db, phone), ref.objectType, ref.id],
        );
      }
    }
  }

  /** A record the CRM no longer has: no number links to it any more. */
  async forget(connection: CrmConnection, ref: ContactRef): Promise<void> {
    await this.db.query(
      `DELETE FROM crm_contact_links WHERE connection_id = $1 AND object_type = $2 AND ref_id = $3`,
      [connection.id, ref.objectType, ref.id],
    );
  }
}
