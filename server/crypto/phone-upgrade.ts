/**
 * Turns the customers' numbers stored before 046_phone_tokens.sql into tokens (phone-tokens.ts),
 * once, when a relay or the CLI first opens the database with its vault, before anything reads a
 * number by its token. Bounded batches of distinct numbers per column; progress goes to `log`; a
 * marker in `instance_secrets` makes every later start skip it.
 */
import type { Database } from '../db/database.ts';
import type { PhoneCipher } from './phone-tokens.ts';

const MARKER = 'phone_tokens_v1';
// Large batches: each one scans its table once (a one-time pass, before the relay serves).
const BATCH = 10_000;

/** Every column that holds a customer's number, with the rows where it is the customer's. */
const COLUMNS: { table: string; column: string; where?: string }[] = [
  { table: 'contacts', column: 'phone_e164' },
  { table: 'conversations', column: 'contact_phone' },
  { table: 'messages', column: 'to_e164', where: "direction = 'outbound'" },
  { table: 'messages', column: 'from_e164', where: "direction = 'inbound'" },
  { table: 'outbox_jobs', column: 'to_e164' },
  { table: 'consent_events', column: 'phone_e164' },
  { table: 'consent_reviews', column: 'phone_e164' },
  { table: 'consent_requests', column: 'phone_e164' },
  { table: 'crm_contact_links', column: 'phone_e164' },
  { table: 'legal_holds', column: 'phone_e164' },
  { table: 'payment_holds', column: 'phone_e164' },
  { table: 'payment_requests', column: 'to_e164' },
  { table: 'review_items', column: 'phone_e164' },
  { table: 'unassigned_inbound', column: 'from_e164' },
  // A consent job names the number it projects to the CRM (sync-feed.ts).
  { table: 'crm_sync_jobs', column: 'subject', where: "kind = 'consent'" },
  { table: 'crm_dead_letters', column: 'subject', where: "kind = 'consent'" },
];

export async function tokenizeStoredPhones(
  db: Database,
  phones: PhoneCipher,
  options: { log?: (message: string) => void; evenIfDone?: boolean } = {},
): Promise<number> {
  const { log } = options;
  const [done] = await db.query('SELECT 1 FROM instance_secrets WHERE name = $1', [MARKER]);
  if (done !== undefined && options.evenIfDone !== true) return 0;
  let total = 0;
  for (const { table, column, where } of COLUMNS) {
    const filter = `${column} NOT LIKE 'p1:%'${where === undefined ? '' : ` AND ${where}`}`;
    for (;;) {
      const rows = await db.query<{ number: string }>(
        `SELECT DISTINCT ${column} AS number FROM ${table} WHERE ${filter} LIMIT ${BATCH}`,
      );
      if (rows.length === 0) break;
      const numbers = rows.map((r) => r.number);
      const changed = await db.query(
        `UPDATE ${table} t SET ${column} = v.token FROM unnest($1::text[], $2::text[]) AS v(number, token)
          WHERE t.${column} = v.number${where === undefined ? '' : ` AND t.${where}`} RETURNING 1`,
        [numbers, numbers.map((n) => phones.token(n))],
      );
      total += changed.length;
      log?.(`phone numbers to tokens: ${table}.${column}, ${changed.length} rows`);
    }
  }
  total += await tokenizeEventNumbers(db, phones);
  total += await tokenizeDedupeKeys(db, phones);
  total += await tokenizeCallbackParams(db, phones);
  await fillContactTails(db, phones);
  await db.query('INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
    MARKER,
    'done',
  ]);
  return total;
}

/** The search hashes of every conversation that has none yet (written before 046). */
async function fillContactTails(db: Database, phones: PhoneCipher): Promise<void> {
  for (;;) {
    const rows = await db.query<{ id: string; contact_phone: string }>(
      `SELECT id::text AS id, contact_phone FROM conversations WHERE contact_tails IS NULL LIMIT ${BATCH}`,
    );
    if (rows.length === 0) return;
    await db.query(
      `UPDATE conversations c SET contact_tails = string_to_array(v.tails, ',')
         FROM unnest($1::uuid[], $2::text[]) AS v(id, tails) WHERE c.id = v.id`,
      [rows.map((r) => r.id), rows.map((r) => phones.tails(phones.number(r.contact_phone)).join(','))],
    );
  }
}

const E164 = /\+\d{6,15}/g;

/** Live events written before tokens: their message's customer number becomes its token. */
async function tokenizeEventNumbers(db: Database, phones: PhoneCipher): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await db.query<{ id: number; side: 'from' | 'to'; number: string }>(
      `SELECT id, side, payload #>> ARRAY['message', side] AS number
         FROM (SELECT id, payload, CASE payload #>> '{message,direction}' WHEN 'outbound' THEN 'to' ELSE 'from' END AS side
                 FROM events WHERE payload ? 'message') e
        WHERE payload #>> ARRAY['message', side] LIKE '+%'
        ORDER BY id LIMIT ${BATCH}`,
    );
    if (rows.length === 0) return total;
    for (const r of rows)
      await db.query(
        `UPDATE events SET payload = jsonb_set(payload, ARRAY['message', $2::text], $3::jsonb) WHERE id = $1`,
        [r.id, r.side, JSON.stringify(phones.token(r.number))],
      );
    total += rows.length;
  }
}

/** Review items whose dedupe key named a number (refused sends, overrides): the token instead. */
async function tokenizeDedupeKeys(db: Database, phones: PhoneCipher): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await db.query<{ id: string; dedupe_key: string }>(
      `SELECT id::text AS id, dedupe_key FROM review_items WHERE dedupe_key ~ '\\+[0-9]{6,15}' LIMIT ${BATCH}`,
    );
    if (rows.length === 0) return total;
    for (const r of rows)
      await db.query('UPDATE review_items SET dedupe_key = $2 WHERE id = $1', [
        r.id,
        r.dedupe_key.replace(E164, (number) => phones.token(number)),
      ]);
    total += rows.length;
  }
}

/** Delivery reports kept unmatched: the To and From of the provider's parameters as tokens. */
async function tokenizeCallbackParams(db: Database, phones: PhoneCipher): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await db.query<{ id: string; params: Record<string, unknown> }>(
      `SELECT id::text AS id, params FROM unmatched_status_callbacks
        WHERE EXISTS (SELECT 1 FROM jsonb_each_text(CASE jsonb_typeof(params) WHEN 'object' THEN params ELSE '{}' END) p
                       WHERE lower(p.key) IN ('to', 'from') AND p.value <> '' AND p.value NOT LIKE 'p1:%')
        LIMIT ${BATCH}`,
    );
    if (rows.length === 0) return total;
    for (const r of rows) {
      const params = Object.fromEntries(
        Object.entries(r.params).map(([key, value]) =>
          // Whatever the provider put there (any non-empty value the query found), as a token.
          /^(to|from)$/i.test(key) && value !== null && value !== ''
            ? [key, phones.token(typeof value === 'string' ? value : JSON.stringify(value))]
            : [key, value],
        ),
      );
      await db.query('UPDATE unmatched_status_callbacks SET params = $2 WHERE id = $1::bigint', [
        r.id,
        JSON.stringify(params),
      ]);
    }
    total += rows.length;
  }
}
