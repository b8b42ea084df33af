/**
 * Changing the master key: with the new one as SECRETS_KEY and the old one in
 * SECRETS_KEY_PREVIOUS, everything sealed with the old one still opens; `keys rotate` then re-seals
 * it under SECRETS_KEY (org data keys and the phone key re-wrapped, second factors, CRM and payment credentials,
 * texts to unowned numbers), after which SECRETS_KEY_PREVIOUS can go. Each value stays bound to
 * its context; the texts themselves need no work, their data keys are what change wrapping.
 */
import type { Queryable } from '../db/database.ts';
import { PHONE_KEY_SECRET } from './phone-tokens.ts';
import { open, type SecretsKey, seal, sealedKeyId } from './secrets.ts';
import { dataKeyContext } from './vault.ts';

interface SealedColumn {
  /** Where, for people: what an operator is told was re-sealed. */
  what: string;
  /** Rows holding a sealed value: their key (`ref`), the value (`sealed`) and what makes the context. */
  select: string;
  /** $1 the new seal, $2 the value read (unchanged since), then `ref`. */
  update: string;
  ref(row: Record<string, string>): string[];
  context(row: Record<string, string>): string;
}

// Fixed SQL, never built from input. Values in clear (a TOTP secret from before sealing) are left
// for the code that reads them, which seals them on use.
const SEALED: SealedColumn[] = [
  {
    what: 'organisation data keys',
    select: `SELECT org_id::text AS org_id, key_no::text AS key_no, wrapped AS sealed FROM org_data_keys WHERE wrapped IS NOT NULL`,
    update:
      'UPDATE org_data_keys SET wrapped = $1 WHERE wrapped = $2 AND org_id = $3::uuid AND key_no = $4::int',
    ref: (r) => [r.org_id ?? '', r.key_no ?? ''],
    context: (r) => dataKeyContext(r.org_id ?? '', Number(r.key_no)),
  },
  {
    what: 'the phone key',
    select: `SELECT name, value AS sealed FROM instance_secrets WHERE name = '${PHONE_KEY_SECRET}'`,
    update: 'UPDATE instance_secrets SET value = $1 WHERE value = $2 AND name = $3',
    ref: (r) => [r.name ?? ''],
    context: () => PHONE_KEY_SECRET,
  },
  {
    what: 'second-factor secrets',
    select: `SELECT id::text AS id, totp_secret AS sealed FROM users WHERE totp_secret LIKE 'v1:%'`,
    update: 'UPDATE users SET totp_secret = $1 WHERE totp_secret = $2 AND id = $3::uuid',
    ref: (r) => [r.id ?? ''],
    context: (r) => `totp:${r.id}`,
  },
  {
    what: 'CRM connection credentials',
    select: 'SELECT id::text AS id, org_id::text AS org_id, crm, secrets AS sealed FROM crm_connections',
    update: 'UPDATE crm_connections SET secrets = $1 WHERE secrets = $2 AND id = $3::uuid',
    ref: (r) => [r.id ?? ''],
    context: (r) => `crm_connection:${r.org_id}:${r.crm}`,
  },
  {
    what: 'payment provider credentials',
    select: 'SELECT provider, sealed FROM payment_provider_connections',
    update: 'UPDATE payment_provider_connections SET sealed = $1 WHERE sealed = $2 AND provider = $3',
    ref: (r) => [r.provider ?? ''],
    context: (r) => `payment_provider_connections:${r.provider}`,
  },
  {
    what: 'texts to numbers no organisation owns',
    select: `SELECT id::text AS id, provider, provider_message_id, body_sealed AS sealed
               FROM unassigned_inbound WHERE body_sealed IS NOT NULL`,
    update: 'UPDATE unassigned_inbound SET body_sealed = $1 WHERE body_sealed = $2 AND id = $3::bigint',
    ref: (r) => [r.id ?? ''],
    context: (r) => `unassigned:${r.provider}:${r.provider_message_id}`,
  },
];

export interface RewrapCount {
  what: string;
  count: number;
}

/** How many values of each kind an older master key sealed (what SECRETS_KEY_PREVIOUS still opens). */
export async function underOlderKeys(db: Queryable, key: SecretsKey): Promise<RewrapCount[]> {
  const counts: RewrapCount[] = [];
  for (const column of SEALED) {
    const rows = await db.query<Record<string, string>>(column.select);
    counts.push({ what: column.what, count: rows.filter((r) => isOlder(r.sealed, key)).length });
  }
  return counts;
}

const isOlder = (sealed: string | undefined, key: SecretsKey): boolean => {
  const id = sealedKeyId(sealed ?? '');
  return id !== null && id !== key.id;
};

/**
 * Re-seals under `key` every value an older master key sealed; each row is changed only if it still
 * holds what was read (a concurrent rewrite wins and is left alone). Throws, naming the value,
 * when one does not open: its key is neither SECRETS_KEY nor in SECRETS_KEY_PREVIOUS.
 */
export async function rewrapUnderMasterKey(db: Queryable, key: SecretsKey): Promise<RewrapCount[]> {
  const counts: RewrapCount[] = [];
  for (const column of SEALED) {
    let count = 0;
    for (const row of await db.query<Record<string, string>>(column.select)) {
      if (!isOlder(row.sealed, key)) continue;
      const context = column.context(row);
      const plain = open(key, row.sealed ?? '', context);
      await db.query(column.update, [seal(key, plain, context), row.sealed, ...column.ref(row)]);
      count += 1;
    }
    counts.push({ what: column.what, count });
  }
  return counts;
}
