import { countSegments } from '../compliance/segments.ts';
import type { Queryable } from '../db/database.ts';
import { newId } from '../ids.ts';
import { BatchQueue } from '../lib/batch-queue.ts';
import { sealBody } from '../stores/message-bodies.ts';
import { insertOutbound, type MessageRow, type NewOutbound, PARTICIPANTS_CTE } from '../stores/messages.ts';
import { contactTails, phoneToken } from '../stores/phone-columns.ts';

interface Pending {
  input: NewOutbound;
  id: string;
  resolve(row: MessageRow | null): void;
  reject(error: unknown): void;
}

/** Postgres errors after which the batch is retried one message at a time. */
const RETRY_ALONE = new Set(['40P01', '40001', '23503', '23505', '23514', '22001']);

/**
 * Group commit for the send endpoint. Concurrent sends are written by one multi-row statement
 * (and one commit) instead of one each: the first send of a quiet moment goes at once, and sends
 * that arrive while a batch is being written wait for the next one. Every caller still answers
 * only after its own row is durable. A batch that fails as a whole is retried message by
 * message, so one bad row never fails the others.
 */
export class SendBatcher {
  private readonly queue: BatchQueue<Pending>;

  constructor(
    private readonly db: Queryable,
    options: { maxBatch?: number; maxConcurrent?: number } = {},
  ) {
    // write() settles every item itself; should it throw past that, the queue rejects the batch.
    this.queue = new BatchQueue((batch) => this.write(batch), {
      maxBatch: options.maxBatch ?? 100,
      maxConcurrent: options.maxConcurrent ?? 2,
    });
  }

  /** Stores one outbound message; resolves to its row, or null if its idempotency key was taken. */
  insert(input: NewOutbound): Promise<MessageRow | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, id: newId(), resolve, reject });
    });
  }

  private async write(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Pending];
      try {
        only.resolve(await insertOutbound(this.db, only.input, only.id));
      } catch (error) {
        only.reject(error);
      }
      return;
    }
    let rows: MessageRow[];
    try {
      rows = await insertMany(this.db, batch);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && RETRY_ALONE.has(code)) {
        for (const item of batch) {
          try {
            item.resolve(await insertOutbound(this.db, item.input, item.id));
          } catch (single) {
            item.reject(single);
          }
        }
        return;
      }
      for (const item of batch) item.reject(error);
      return;
    }
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const item of batch) item.resolve(byId.get(item.id) ?? null);
  }
}

/** insertMany's statement: the writes of insertOutbound for every row of the unnested input. */
const INSERT_MANY = `WITH input AS (
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
                          $8::int[], $9::text[], $10::text[], $11::text[], $12::text[], $13::uuid[],
                          $14::text[], $15::text[], $16::text[], $17::text[], $18::timestamptz[], $19::uuid[],
                          $20::timestamptz[], $21::text[], $22::int[], $23::text[])
       AS t(id, org_id, sender_number_id, from_e164, to_e164, body, purpose, segments, encoding, provider,
            idempotency_key, request_hash, sent_by_key_id, crm, crm_object, crm_id, sent_by, scheduled_for,
            sent_by_user_id, now, crm_time_zone, body_key, tails)
   ), contact AS (
     INSERT INTO contacts (id, org_id, phone_e164, crm, crm_object, crm_id)
     SELECT DISTINCT ON (org_id, crm, crm_object, crm_id) gen_random_uuid(), org_id, to_e164, crm, crm_object, crm_id
       FROM input WHERE crm IS NOT NULL ORDER BY org_id, crm, crm_object, crm_id
     ON CONFLICT (org_id, crm, crm_object, crm_id)
     DO UPDATE SET phone_e164 = EXCLUDED.phone_e164, updated_at = now()
     RETURNING id, org_id, crm, crm_object, crm_id
   ), conv AS (
     INSERT INTO conversations (id, org_id, sender_number_id, contact_phone, contact_id, last_message_at, contact_tails)
     SELECT DISTINCT ON (i.org_id, i.sender_number_id, i.to_e164)
            gen_random_uuid(), i.org_id, i.sender_number_id, i.to_e164, c.id, i.now, string_to_array(i.tails, ',')
       FROM input i LEFT JOIN contact c
         ON c.org_id = i.org_id AND c.crm = i.crm AND c.crm_object = i.crm_object AND c.crm_id = i.crm_id
      ORDER BY i.org_id, i.sender_number_id, i.to_e164, c.id NULLS LAST, i.now DESC
     ON CONFLICT ON CONSTRAINT conversations_unique_thread
     DO UPDATE SET last_message_at = EXCLUDED.last_message_at, contact_id = coalesce(EXCLUDED.contact_id, conversations.contact_id)
     RETURNING id, org_id, sender_number_id, contact_phone, last_message_at
   ), msg AS (
     INSERT INTO messages (id, org_id, conversation_id, direction, from_e164, to_e164, body, body_key, purpose,
                           status, segments, encoding, provider, idempotency_key, request_hash, sent_by_key_id,
                           sent_by_user_id, created_at)
     SELECT i.id, i.org_id, v.id, 'outbound', i.from_e164, i.to_e164, i.body, i.body_key, i.purpose, 'queued',
            i.segments, i.encoding, i.provider, i.idempotency_key, i.request_hash, i.sent_by_key_id,
            i.sent_by_user_id, i.now
       FROM input i JOIN conv v
         ON v.org_id = i.org_id AND v.sender_number_id = i.sender_number_id AND v.contact_phone = i.to_e164
     ON CONFLICT ON CONSTRAINT messages_idempotency_unique DO NOTHING
     RETURNING *
   ), history AS (
     INSERT INTO message_status_events (message_id, status) SELECT id, 'queued' FROM msg
   ), ${PARTICIPANTS_CTE}, job AS (
     INSERT INTO outbox_jobs (message_id, org_id, state, sender_number_id, scheduled_for, crm_time_zone, to_e164)
     SELECT m.id, m.org_id, 'queued', i.sender_number_id, i.scheduled_for, i.crm_time_zone, m.to_e164
       FROM msg m JOIN input i ON i.id = m.id
   ), event AS (
     INSERT INTO events (org_id, type, conversation_id, payload)
     SELECT m.org_id, 'message.created', m.conversation_id,
            jsonb_build_object('message', message_dto(m::messages, i.sent_by, i.scheduled_for))
       FROM msg m JOIN input i ON i.id = m.id ORDER BY m.id
   )
   SELECT m.*, i.sent_by, i.scheduled_for FROM msg m JOIN input i ON i.id = m.id`;

/**
 * The multi-row form of insertOutbound: the same writes for a whole batch in one statement.
 * Conversations and contacts are upserted once per distinct key, in key order, so concurrent
 * batches lock rows in the same order and cannot deadlock each other.
 */
async function insertMany(db: Queryable, batch: Pending[]): Promise<MessageRow[]> {
  const col = <T>(pick: (p: Pending) => T): T[] => batch.map(pick);
  const segments = batch.map((p) => p.input.counted ?? countSegments(p.input.body));
  const sealed: { body: string; bodyKey: number | null }[] = [];
  for (const p of batch) sealed.push(await sealBody(db, p.input.orgId, p.id, p.input.body));
  const rows = await db.query<MessageRow>(INSERT_MANY, [
    col((p) => p.id),
    col((p) => p.input.orgId),
    col((p) => p.input.senderNumberId),
    col((p) => p.input.from),
    col((p) => phoneToken(db, p.input.to)),
    sealed.map((s) => s.body),
    col((p) => p.input.purpose),
    segments.map((s) => s.segments),
    segments.map((s) => s.encoding),
    col((p) => p.input.provider),
    col((p) => p.input.idempotencyKey ?? null),
    col((p) => p.input.requestHash ?? null),
    col((p) => p.input.sentByKeyId ?? null),
    col((p) => p.input.contact?.crm ?? null),
    col((p) => p.input.contact?.objectType ?? null),
    col((p) => p.input.contact?.id ?? null),
    col((p) => p.input.sentByName ?? null),
    col((p) => p.input.scheduledFor ?? null),
    col((p) => p.input.sentByUserId ?? null),
    col((p) => p.input.now),
    col((p) => p.input.crmTimeZone ?? null),
    sealed.map((s) => s.bodyKey),
    col((p) => contactTails(db, p.input.to)),
  ]);
  // The caller gets the text and number it sent, not the stored seal and token.
  const sent = new Map(batch.map((p) => [p.id, p.input]));
  return rows.map((row) => ({
    ...row,
    body: sent.get(row.id)?.body ?? row.body,
    to_e164: sent.get(row.id)?.to ?? row.to_e164,
    body_key: null,
  }));
}
