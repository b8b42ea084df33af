import { createHash } from 'node:crypto';
import type {
  MessageStatus as ContractMessageStatus,
  Redaction as ContractRedaction,
  Message,
} from '../../contract/messages.ts';
import type { MessagePurpose } from '../compliance/decide.ts';
import { countSegments, type SmsEncoding } from '../compliance/segments.ts';
import { isUniqueViolation, type Queryable } from '../db/database.ts';
import { newId } from '../ids.ts';
import { appendEvent } from '../live/events.ts';
import { openBodies, sealBody } from './message-bodies.ts';
import { contactTails, phoneToken } from './phone-columns.ts';

/** A message's status, as the wire contract states it. */
export type MessageStatus = ContractMessageStatus;

/** A message as the API shows it (contract/messages.ts). */
export type MessageDto = Message;

/** One replaced span of a stored body: what kind of number it was and where its placeholder is. */
export type Redaction = ContractRedaction;

export interface MessageRow {
  id: string;
  org_id: string;
  conversation_id: string;
  direction: 'outbound' | 'inbound';
  from_e164: string;
  to_e164: string;
  body: string;
  /** The data key that sealed `body` as stored; the stores open it on read (null: in clear). */
  body_key?: number | null;
  purpose: MessagePurpose;
  status: MessageStatus;
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
  provider: string | null;
  provider_message_id: string | null;
  provider_sequence: number | null;
  error_code: string | null;
  error_message: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  sent_by_key_id: string | null;
  sent_by: string | null;
  /** From MESSAGE_COLUMNS (and the insert): the job's later start, when the text waits for it. */
  scheduled_for?: Date | null;
  redactions: Redaction[] | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * A message row as the API shows it. `sent_by` names the sender as the send itself did: the key's
 * name for an API key, else the signed-in user's email (a session has no key).
 */
export const MESSAGE_COLUMNS = `m.id, m.org_id, m.conversation_id, m.direction, m.from_e164, m.to_e164, m.body,
  m.body_key, m.purpose, m.status, m.segments, m.encoding, m.provider, m.provider_message_id, m.provider_sequence,
  m.error_code, m.error_message, m.idempotency_key, m.request_hash, m.sent_by_key_id,
  coalesce((SELECT coalesce(k.name, 'key ' || k.prefix) FROM api_keys k WHERE k.id = m.sent_by_key_id),
           (SELECT u.email FROM users u WHERE u.id = m.sent_by_user_id)) AS sent_by,
  (SELECT j.scheduled_for FROM outbox_jobs j WHERE j.message_id = m.id AND j.state = 'queued') AS scheduled_for,
  m.redactions, m.created_at, m.updated_at`;

export function toDto(row: MessageRow): MessageDto {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    direction: row.direction,
    from: row.from_e164,
    to: row.to_e164,
    body: row.body,
    purpose: row.purpose,
    status: row.status,
    segments: row.segments,
    encoding: row.encoding,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    sentBy: row.sent_by,
    scheduledFor: row.scheduled_for ? row.scheduled_for.toISOString() : null,
    redactions: row.redactions ?? [],
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function getMessage(db: Queryable, id: string): Promise<MessageRow | null> {
  const rows = await db.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1`, [id]);
  return (await openBodies(db, rows))[0] ?? null;
}

/** Finds or creates the thread for (org, sender number, customer phone). */
export async function upsertConversation(
  tx: Queryable,
  input: {
    orgId: string;
    senderNumberId: string;
    contactPhone: string;
    contactId?: string | null;
    /** The customer wrote: remember when (the quiet-hours reply window counts from it). */
    inbound?: boolean;
    /** The relay's clock: first-contact silence and the reply window are judged against it. */
    now: Date;
  },
): Promise<string> {
  const rows = await tx.query<{ id: string }>(
    `INSERT INTO conversations (id, org_id, sender_number_id, contact_phone, contact_id, last_message_at, last_inbound_at,
                                contact_tails)
     VALUES ($1, $2, $3, $4, $5, $7, CASE WHEN $6::boolean THEN $7::timestamptz END, string_to_array($8, ','))
     ON CONFLICT ON CONSTRAINT conversations_unique_thread
     DO UPDATE SET last_message_at = $7,
                   last_inbound_at = CASE WHEN $6::boolean THEN $7::timestamptz ELSE conversations.last_inbound_at END,
                   contact_id = coalesce(EXCLUDED.contact_id, conversations.contact_id)
     RETURNING id`,
    [
      newId(),
      input.orgId,
      input.senderNumberId,
      phoneToken(tx, input.contactPhone),
      input.contactId ?? null,
      input.inbound === true,
      input.now,
      contactTails(tx, input.contactPhone),
    ],
  );
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('conversation upsert returned nothing');
  return id;
}

export function requestHash(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export interface NewOutbound {
  orgId: string;
  senderNumberId: string;
  from: string;
  to: string;
  body: string;
  purpose: MessagePurpose;
  contact?: { crm: string; objectType: string; id: string } | null;
  idempotencyKey?: string | null;
  requestHash?: string | null;
  sentByKeyId?: string | null;
  /** The signed-in user (or a key's bound user) who sent it: "own conversations" are these. */
  sentByUserId?: string | null;
  /** How the sender is shown (the key's name); stored in the event, not re-read. */
  sentByName?: string | null;
  provider: string;
  /** A later instant, by the relay's clock, before which the outbox must not send it. */
  scheduledFor?: Date | null;
  /** The relay's clock at the send: the message's `created_at` and the thread's `last_message_at`. */
  now: Date;
  /** The CRM's time zone for the recipient that the send was judged by; the outbox judges with it too. */
  crmTimeZone?: string | null;
  /** `body` as the outbound decision counted it; system replies, judged by no decision, are counted here. */
  counted?: { segments: number; encoding: SmsEncoding };
}

/**
 * The CTE that makes each sender of the inserted messages (`msg`) a participant of their
 * conversation (`conv`, with its new activity), for the "mine" list and inbound events. Both
 * insert paths (this file's and the send batcher's) write it, so neither can forget a sender.
 */
export const PARTICIPANTS_CTE = `participant AS (
       INSERT INTO conversation_participants (user_id, conversation_id, last_message_at)
       SELECT DISTINCT m.sent_by_user_id, v.id, v.last_message_at
         FROM msg m JOIN conv v ON v.id = m.conversation_id
        WHERE m.sent_by_user_id IS NOT NULL
        ORDER BY m.sent_by_user_id, v.id
       ON CONFLICT DO NOTHING
     )`;

/**
 * Stores an outbound message with its contact, thread, first status, outbox job and live event
 * in ONE statement: one round trip and one commit per send, which is what keeps the send path
 * near the speed of a bare INSERT. The caller announces it (Notifier) after it returns.
 * Returns null when the idempotency key is already taken (the caller reads the winner).
 */
export async function insertOutbound(
  db: Queryable,
  input: NewOutbound,
  id: string = newId(),
): Promise<MessageRow | null> {
  const info = input.counted ?? countSegments(input.body);
  const sealed = await sealBody(db, input.orgId, id, input.body);
  const rows = await db.query<MessageRow>(
    `WITH contact AS (
       INSERT INTO contacts (id, org_id, phone_e164, crm, crm_object, crm_id)
       SELECT $14, $2, $5, $15, $16, $17 WHERE $15::text IS NOT NULL
       ON CONFLICT (org_id, crm, crm_object, crm_id)
       DO UPDATE SET phone_e164 = EXCLUDED.phone_e164, updated_at = now()
       RETURNING id
     ), conv AS (
       INSERT INTO conversations (id, org_id, sender_number_id, contact_phone, contact_id, last_message_at, contact_tails)
       VALUES ($18, $2, $3, $5, (SELECT id FROM contact), $22, string_to_array($25, ','))
       ON CONFLICT ON CONSTRAINT conversations_unique_thread
       DO UPDATE SET last_message_at = $22, contact_id = coalesce(EXCLUDED.contact_id, conversations.contact_id)
       RETURNING id, last_message_at
     ), msg AS (
       INSERT INTO messages (id, org_id, conversation_id, direction, from_e164, to_e164, body, body_key, purpose,
                             status, segments, encoding, provider, idempotency_key, request_hash, sent_by_key_id,
                             sent_by_user_id, created_at)
       SELECT $1, $2, conv.id, 'outbound', $4, $5, $6, $24, $7, 'queued', $8, $9, $10, $11, $12, $13, $21, $22 FROM conv
       ON CONFLICT ON CONSTRAINT messages_idempotency_unique DO NOTHING
       RETURNING *
     ), history AS (
       INSERT INTO message_status_events (message_id, status) SELECT id, 'queued' FROM msg
     ), ${PARTICIPANTS_CTE}, job AS (
       INSERT INTO outbox_jobs (message_id, org_id, state, sender_number_id, scheduled_for, crm_time_zone, to_e164)
       SELECT id, org_id, 'queued', $3, $20, $23, to_e164 FROM msg
     ), event AS (
       INSERT INTO events (org_id, type, conversation_id, payload)
       SELECT org_id, 'message.created', conversation_id,
              jsonb_build_object('message', message_dto(msg::messages, $19, $20::timestamptz))
         FROM msg
     )
     SELECT msg.*, $19::text AS sent_by, $20::timestamptz AS scheduled_for FROM msg`,
    [
      id,
      input.orgId,
      input.senderNumberId,
      input.from,
      phoneToken(db, input.to),
      sealed.body,
      input.purpose,
      info.segments,
      info.encoding,
      input.provider,
      input.idempotencyKey ?? null,
      input.requestHash ?? null,
      input.sentByKeyId ?? null,
      newId(),
      input.contact?.crm ?? null,
      input.contact?.objectType ?? null,
      input.contact?.id ?? null,
      newId(),
      input.sentByName ?? null,
      input.scheduledFor ?? null,
      input.sentByUserId ?? null,
      input.now,
      input.crmTimeZone ?? null,
      sealed.bodyKey,
      contactTails(db, input.to),
    ],
  );
  const row = rows[0];
  return row === undefined ? null : { ...row, body: input.body, body_key: null, to_e164: input.to };
}

export async function findByIdempotencyKey(
  db: Queryable,
  orgId: string,
  key: string,
): Promise<MessageRow | null> {
  const rows = await db.query<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.org_id = $1 AND m.idempotency_key = $2`,
    [orgId, key],
  );
  return (await openBodies(db, rows))[0] ?? null;
}

export { isUniqueViolation };

/** Lifecycle rank: a status update never moves a message backwards. */
const RANK: Record<MessageStatus, number> = {
  queued: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  failed: 3,
  received: 3,
  cancelled: 3,
};

export function isForward(from: MessageStatus, to: MessageStatus): boolean {
  return RANK[to] > RANK[from];
}

/** Moves a message to a new status (if that is forward), appends history and announces it. */
export async function updateStatus(
  tx: Queryable,
  messageId: string,
  change: {
    status: MessageStatus;
    errorCode?: string | null;
    errorMessage?: string | null;
    providerMessageId?: string | null;
    providerSequence?: number | null;
    detail?: string | null;
  },
): Promise<MessageRow | null> {
  const current = (
    await tx.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1 FOR UPDATE`, [
      messageId,
    ])
  )[0];
  if (current === undefined) return null;
  if (!isForward(current.status, change.status)) return (await openBodies(tx, [current]))[0] ?? null;
  await tx.query(
    `UPDATE messages SET status = $2, error_code = coalesce($3, error_code), error_message = coalesce($4, error_message),
            provider_message_id = coalesce($5, provider_message_id),
            provider_sequence = coalesce($6, provider_sequence), updated_at = now()
      WHERE id = $1`,
    [
      messageId,
      change.status,
      change.errorCode ?? null,
      change.errorMessage ?? null,
      change.providerMessageId ?? null,
      change.providerSequence ?? null,
    ],
  );
  await tx.query(
    `INSERT INTO message_status_events (message_id, status, error_code, detail) VALUES ($1, $2, $3, $4)`,
    [messageId, change.status, change.errorCode ?? null, change.detail ?? null],
  );
  const row = await getMessage(tx, messageId);
  if (row === null) return null;
  await appendEvent(tx, {
    orgId: row.org_id,
    type: 'message.updated',
    conversationId: row.conversation_id,
    payload: { message: toDto(row) },
  });
  return row;
}
