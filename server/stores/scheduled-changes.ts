/**
 * The SQL of changing a scheduled text (#16): reading what a change needs, cancelling it and
 * moving it. Both changes are conditional on the job still waiting (`state = 'queued'`): the
 * outbox claims a job with `FOR UPDATE SKIP LOCKED` and sets it `sending` in the same statement,
 * so whichever commits first wins and a cancelled text can never be claimed, nor a claimed one
 * cancelled.
 */
import type { ContactRef } from '../../crm-plugins/types.ts';
import { appendAudit } from '../audit/audit-log.ts';
import type { Database, Queryable } from '../db/database.ts';
import { appendEvent } from '../live/events.ts';
import { openBodies } from './message-bodies.ts';
import { getMessage, MESSAGE_COLUMNS, type MessageRow, toDto, updateStatus } from './messages.ts';

/** Who changed a scheduled text, for the audit log: actor, request address, the relay's time. */
export interface ChangedBy {
  actor: string;
  ip: string | null;
  at: Date;
}

/** A message as a change to its schedule sees it: who sent it, its job, its CRM record. */
export interface ScheduleTarget {
  message: MessageRow;
  sentByUserId: string | null;
  /** The outbox job's state and schedule; null when the message has no job (an inbound text). */
  job: { state: string; scheduledFor: Date | null; crmTimeZone: string | null } | null;
  contact: ContactRef | null;
}

interface TargetRow extends MessageRow {
  sent_by_user_id: string | null;
  job_state: string | null;
  job_scheduled_for: Date | null;
  job_crm_time_zone: string | null;
  contact_crm: string | null;
  contact_object: string | null;
  contact_crm_id: string | null;
}

export async function scheduleTarget(db: Queryable, messageId: string): Promise<ScheduleTarget | null> {
  const rows = await db.query<TargetRow>(
    `SELECT ${MESSAGE_COLUMNS}, m.sent_by_user_id,
            j.state AS job_state, j.scheduled_for AS job_scheduled_for, j.crm_time_zone AS job_crm_time_zone,
            ct.crm AS contact_crm, ct.crm_object AS contact_object, ct.crm_id AS contact_crm_id
       FROM messages m
       LEFT JOIN outbox_jobs j ON j.message_id = m.id
       LEFT JOIN conversations c ON c.id = m.conversation_id
       LEFT JOIN contacts ct ON ct.id = c.contact_id
      WHERE m.id = $1`,
    [messageId],
  );
  const row = (await openBodies(db, rows))[0];
  if (row === undefined) return null;
  return {
    message: row,
    sentByUserId: row.sent_by_user_id,
    job:
      row.job_state === null
        ? null
        : { state: row.job_state, scheduledFor: row.job_scheduled_for, crmTimeZone: row.job_crm_time_zone },
    contact:
      row.contact_crm === null || row.contact_object === null || row.contact_crm_id === null
        ? null
        : ({ crm: row.contact_crm, objectType: row.contact_object, id: row.contact_crm_id } as ContactRef),
  };
}

/**
 * Cancels a text whose job still waits for its time: the job ends `cancelled`, the message
 * `cancelled` (with its history and a `message.updated` event). Null when the outbox took the
 * job first, or it was not scheduled: then nothing changed.
 */
export async function cancelScheduled(
  db: Database,
  messageId: string,
  detail: string,
  by: ChangedBy,
): Promise<MessageRow | null> {
  return db.transaction(async (tx) => {
    // The self-join reads the row as it was before this UPDATE: the audit's "before".
    const taken = await tx.query<{ previous: Date }>(
      `UPDATE outbox_jobs j SET state = 'cancelled', lease_until = NULL, last_error = $2, updated_at = now()
         FROM outbox_jobs old
        WHERE old.id = j.id AND j.message_id = $1 AND j.state = 'queued' AND j.scheduled_for IS NOT NULL
      RETURNING old.scheduled_for AS previous`,
      [messageId, `CANCELLED: ${detail}`],
    );
    const previous = taken[0]?.previous;
    if (previous === undefined) return null;
    const row = await updateStatus(tx, messageId, { status: 'cancelled', detail });
    if (row === null) return null;
    await appendAudit(tx, {
      orgId: row.org_id,
      actor: by.actor,
      action: 'message.cancelled',
      target: { type: 'message', id: messageId },
      at: by.at,
      before: { status: 'queued', scheduledFor: new Date(previous).toISOString() },
      after: { status: 'cancelled' },
      ip: by.ip,
    });
    return row;
  });
}

/**
 * Moves a waiting text to `sendAt` (an instant of the relay's clock, already judged by the
 * outbound decision), keeping the CRM time zone that decision used. Appends a history entry and
 * a `message.updated` event. Null when the outbox took the job first: then nothing changed.
 */
export async function rescheduleScheduled(
  db: Database,
  input: { messageId: string; sendAt: Date; crmTimeZone: string | null; detail: string },
  by: ChangedBy,
): Promise<MessageRow | null> {
  return db.transaction(async (tx) => {
    const moved = await tx.query<{ previous: Date }>(
      `UPDATE outbox_jobs j SET scheduled_for = $2, crm_time_zone = coalesce($3, j.crm_time_zone), last_error = NULL,
              updated_at = now()
         FROM outbox_jobs old
        WHERE old.id = j.id AND j.message_id = $1 AND j.state = 'queued' AND j.scheduled_for IS NOT NULL
      RETURNING old.scheduled_for AS previous`,
      [input.messageId, input.sendAt, input.crmTimeZone],
    );
    const previous = moved[0]?.previous;
    if (previous === undefined) return null;
    // updated_at orders the versions of one message: the panel keeps the newest.
    await tx.query(`UPDATE messages SET updated_at = now() WHERE id = $1`, [input.messageId]);
    await tx.query(
      `INSERT INTO message_status_events (message_id, status, detail) VALUES ($1, 'queued', $2)`,
      [input.messageId, input.detail],
    );
    const row = await getMessage(tx, input.messageId);
    if (row === null) return null;
    await appendAudit(tx, {
      orgId: row.org_id,
      actor: by.actor,
      action: 'message.rescheduled',
      target: { type: 'message', id: input.messageId },
      at: by.at,
      before: { scheduledFor: new Date(previous).toISOString() },
      after: { scheduledFor: input.sendAt.toISOString() },
      ip: by.ip,
    });
    await appendEvent(tx, {
      orgId: row.org_id,
      type: 'message.updated',
      conversationId: row.conversation_id,
      payload: { message: toDto(row) },
    });
    return row;
  });
}
