/**
 * The send path's one read (#20 item 1): every fact the outbound rules need about a send, read
 * for all the sends that arrive together in one statement, as the write already is
 * (server/workers/send-batcher.ts), by server/db/batched-reads.ts: a burst of N sends costs a
 * couple of statements, not N. Each send still gets exactly the row it would have read alone.
 */
import { batchedRead } from '../db/batched-reads.ts';
import type { Queryable } from '../db/database.ts';

/** What one send asks about. */
export interface FactsAsk {
  orgId: string;
  /** The sender number as typed in E.164 (sender numbers are the business's own, stored in clear). */
  from: string;
  /** The recipient's phone token. */
  phone: string;
  idempotencyKey: string | null;
  /**
   * Recent texts to the recipient are counted up to this many (0: not counted, the common case
   * where no state caps texts), over the 24 hours before `since`, leaving out `excluding` (a
   * stored text judged again).
   */
  countUpTo: number;
  since: Date;
  excluding: string | null;
  /** The CRM record whose stored time zone is read, if the send names one. */
  contact: { crm: string; objectType: string; id: string } | null;
  /**
   * The rep sending, for the collision guard (server/inbox/answer-guard.ts): another rep's answer
   * to the customer's latest text since `answeredSince` is read with the facts. Null: not asked.
   */
  answeringAs: string | null;
  answeredSince: Date | null;
}

export interface FactsRow {
  sender_id: string | null;
  replay_id: string | null;
  org_name: string;
  settings: unknown;
  kind: 'opt_in' | 'opt_out' | null;
  source: string | null;
  occurred_at: Date | null;
  review_id: string | null;
  review_reason: string | null;
  review_since: Date | null;
  last_message_at: Date | null;
  last_inbound_at: Date | null;
  sent_24h: number;
  contact_time_zone: string | null;
  answered_id: string | null;
  answered_by: string | null;
  answered_name: string | null;
  answered_at: Date | null;
}

/**
 * One row per ask, by its position `n`. The count and the contact lookup sit in CASEs, so
 * PostgreSQL runs those subqueries only for the asks that need them; one fixed text, so one
 * prepared plan serves every batch. Each lookup is a LATERAL subquery with LIMIT 1 (every one
 * reads a unique key), which keeps it an index probe per ask: joined flat, the planner may read
 * every conversation of the org and filter. No row for an ask whose org does not exist.
 * The collision guard reads the thread's last inbound time from the conversation row (the inbound
 * path writes it with the message, by the same clock), not from the thread's messages: a long
 * thread with no reply would otherwise be walked in full on every send. It is skipped outright
 * when nobody is answering (an org key's send).
 */
const FACTS = `
   SELECT i.n, s.id AS sender_id,
          (SELECT id FROM messages WHERE org_id = i.org_id AND idempotency_key = i.idempotency_key) AS replay_id,
          o.name AS org_name, o.settings,
          c.kind, c.source, c.occurred_at,
          r.id AS review_id, r.reason AS review_reason, r.created_at AS review_since,
          v.last_message_at, v.last_inbound_at,
          CASE WHEN i.count_up_to > 0 THEN (SELECT count(*)::int FROM (
            SELECT 1 FROM conversations cv JOIN messages m ON m.conversation_id = cv.id
             WHERE cv.org_id = i.org_id AND cv.contact_phone = i.phone AND m.direction = 'outbound'
               AND m.purpose = 'conversation' AND m.status NOT IN ('failed', 'cancelled')
               AND m.created_at > i.since - interval '24 hours'
               AND (i.excluding IS NULL OR m.id <> i.excluding)
             LIMIT i.count_up_to) recent) ELSE 0 END AS sent_24h,
          CASE WHEN i.crm IS NOT NULL THEN (SELECT time_zone FROM contacts
            WHERE org_id = i.org_id AND crm = i.crm AND crm_object = i.crm_object AND crm_id = i.crm_id)
          END AS contact_time_zone,
          a.id AS answered_id, a.sent_by_user_id AS answered_by, a.sent_by_name AS answered_name,
          a.created_at AS answered_at
     FROM input i
     JOIN LATERAL (SELECT name, settings FROM orgs WHERE id = i.org_id) o ON true
     LEFT JOIN LATERAL (SELECT id FROM sender_numbers
                         WHERE org_id = i.org_id AND e164 = i.from_e164 LIMIT 1) s ON true
     LEFT JOIN LATERAL (SELECT id, last_message_at, last_inbound_at FROM conversations
                         WHERE org_id = i.org_id AND sender_number_id = s.id AND contact_phone = i.phone
                         LIMIT 1) v ON true
     LEFT JOIN LATERAL (SELECT id, reason, created_at FROM consent_reviews
                         WHERE org_id = i.org_id AND phone_e164 = i.phone AND status = 'open' LIMIT 1) r ON true
     LEFT JOIN LATERAL (SELECT kind, source, occurred_at FROM consent_events
                         WHERE org_id = i.org_id AND phone_e164 = i.phone ORDER BY id DESC LIMIT 1) c ON true
     LEFT JOIN LATERAL (
       SELECT m.id, m.sent_by_user_id, coalesce(u.display_name, u.email) AS sent_by_name, m.created_at
         FROM (SELECT id, sent_by_user_id, created_at FROM messages
                WHERE i.answering_as IS NOT NULL AND conversation_id = v.id AND direction = 'outbound'
                  AND created_at > v.last_inbound_at AND created_at > i.answered_since
                  AND sent_by_user_id IS NOT NULL AND sent_by_user_id <> i.answering_as
                ORDER BY created_at DESC LIMIT 1) m
         JOIN users u ON u.id = m.sent_by_user_id) a ON true`;

/** The input row of one ask: each column's name, SQL type and value. */
const INPUT: [name: string, type: string, value: (ask: FactsAsk, n: number) => unknown][] = [
  ['n', 'int', (_, n) => n],
  ['org_id', 'uuid', (a) => a.orgId],
  ['from_e164', 'text', (a) => a.from],
  ['phone', 'text', (a) => a.phone],
  ['idempotency_key', 'text', (a) => a.idempotencyKey],
  ['count_up_to', 'int', (a) => a.countUpTo],
  ['since', 'timestamptz', (a) => a.since],
  ['excluding', 'uuid', (a) => a.excluding],
  ['crm', 'text', (a) => a.contact?.crm ?? null],
  ['crm_object', 'text', (a) => a.contact?.objectType ?? null],
  ['crm_id', 'text', (a) => a.contact?.id ?? null],
  ['answering_as', 'uuid', (a) => a.answeringAs],
  ['answered_since', 'timestamptz', (a) => a.answeredSince],
];

/**
 * A batch's asks come in as one JSON array of rows, a lone ask (the quiet moment's send) as
 * scalars. Not as one array per column: PostgreSQL estimates unnest() of a given array by its
 * length but of a parameter at 100 rows, so the plan made for each call's values always looked
 * cheaper than the prepared one, and every batch was planned afresh (planning cost more than the
 * read itself). jsonb_to_recordset() is estimated alike either way, so the prepared plan is kept.
 */
export const BATCH_SQL = `WITH input AS (
     SELECT * FROM jsonb_to_recordset($1::jsonb)
       AS t(${INPUT.map(([name, type]) => `${name} ${type}`).join(', ')})
   )${FACTS}`;
const SINGLE_SQL = `WITH input AS (
     SELECT ${INPUT.map(([name, type], i) => `$${i + 1}::${type} AS ${name}`).join(', ')}
   )${FACTS}`;

/** BATCH_SQL's one parameter: the asks as rows, each with its index `n`. */
export const batchParams = (asks: readonly FactsAsk[]): [string] => [
  JSON.stringify(
    asks.map((ask, n) => Object.fromEntries(INPUT.map(([name, , value]) => [name, value(ask, n)]))),
  ),
];

/** Reads the facts of several asks in one statement; each answer at its ask's index (undefined: no such org). */
export async function readFacts(db: Queryable, asks: readonly FactsAsk[]): Promise<(FactsRow | undefined)[]> {
  const [only] = asks;
  const rows =
    asks.length === 1 && only !== undefined
      ? await db.query<FactsRow & { n: number }>(
          SINGLE_SQL,
          INPUT.map(([, , value]) => value(only, 0)),
        )
      : await db.query<FactsRow & { n: number }>(BATCH_SQL, batchParams(asks));
  const answers: (FactsRow | undefined)[] = asks.map(() => undefined);
  for (const { n, ...row } of rows) answers[n] = row;
  return answers;
}

/** The facts of one send, read together with the other sends of the moment. */
export const factsOf = batchedRead(readFacts);
