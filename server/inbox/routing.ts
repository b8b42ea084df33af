import type { Database, Queryable } from '../db/database.ts';
import { announceInbox, assignConversation, markUnread } from './inbox-state.ts';

/**
 * Routing a customer's text (issue #19 item 3). A conversation's assignee keeps it. Otherwise the
 * active rep who last texted it gets it; a first text goes to the CRM contact's owner, else to
 * the number's default assignee, else to the unassigned queue.
 *
 * The owner is found without a CRM call in the inbound transaction: the text marks its
 * conversation as waiting and queues one 'owner' job per connected CRM (041_owner_routing.sql);
 * the CRM sync worker looks the owner up (crm-sync/owner-lookup.ts) and ends the wait here. A
 * wait longer than this falls back.
 */
export const OWNER_WAIT_MS = 2 * 60_000;

/** The active rep who last texted the conversation, if any. */
export async function lastRep(tx: Queryable, orgId: string, conversationId: string): Promise<string | null> {
  const [row] = await tx.query<{ id: string }>(
    `SELECT u.id::text AS id FROM users u
      WHERE u.org_id = $2 AND u.status = 'active' AND u.id = (
        SELECT m.sent_by_user_id FROM messages m
         WHERE m.conversation_id = $1 AND m.direction = 'outbound' AND m.sent_by_user_id IS NOT NULL
         ORDER BY m.created_at DESC LIMIT 1)`,
    [conversationId, orgId],
  );
  return row?.id ?? null;
}

/** The conversation's number's default assignee, if it is an active user of the org. */
export async function defaultAssignee(
  tx: Queryable,
  orgId: string,
  conversationId: string,
): Promise<string | null> {
  const [row] = await tx.query<{ id: string }>(
    `SELECT u.id::text AS id FROM conversations c
       JOIN sender_numbers n ON n.id = c.sender_number_id
       JOIN users u ON u.id = n.default_assignee_user_id AND u.org_id = $2 AND u.status = 'active'
      WHERE c.id = $1`,
    [conversationId, orgId],
  );
  return row?.id ?? null;
}

/**
 * Queues the owner lookup of a conversation's first text, one job per active CRM connection of
 * the org, and marks the conversation as waiting. Answers false when the org has no CRM to ask.
 */
export async function queueOwnerLookup(
  tx: Queryable,
  input: { orgId: string; conversationId: string; now: Date },
): Promise<boolean> {
  const queued = await tx.query(
    `INSERT INTO crm_sync_jobs (connection_id, org_id, kind, subject)
     SELECT k.id, k.org_id, 'owner', $2 FROM crm_connections k WHERE k.org_id = $1 AND k.status = 'active'
     ON CONFLICT (connection_id, subject) WHERE kind = 'owner' AND state = 'queued' DO NOTHING
     RETURNING id`,
    [input.orgId, input.conversationId],
  );
  if (queued.length === 0) return false;
  await tx.query('UPDATE conversations SET owner_lookup_since = $2 WHERE id = $1', [
    input.conversationId,
    input.now,
  ]);
  return true;
}

/** How a wait for the owner ended. */
export type OwnerRoutingOutcome =
  /** Routed to the owner. */
  | 'owner'
  /** No owner (or the CRM could not say): routed to the last rep or default assignee, else left unassigned. */
  | 'fallback'
  /** Someone assigned it meanwhile, or the wait had already ended: left as it is. */
  | 'already'
  /** Another CRM of the org has not answered yet: it decides. */
  | 'waiting'
  /** No such conversation in this org. */
  | 'gone';

/**
 * Ends the wait for a conversation's owner: to `ownerUserId`, or (null) by the fallback. An
 * assignment made meanwhile (by hand, or by a rep's reply) always wins. The assignee gets the
 * waiting text unread, and the change is announced on /v1/events.
 */
export async function finishOwnerRouting(
  tx: Queryable,
  input: {
    orgId: string;
    conversationId: string;
    ownerUserId: string | null;
    now: Date;
    /** The job answering, when a CRM answered: other CRMs' jobs still pending then decide. */
    jobId?: number;
  },
): Promise<OwnerRoutingOutcome> {
  const [row] = await tx.query<{ assigned_user_id: string | null; owner_routed_at: Date | null }>(
    'SELECT assigned_user_id, owner_routed_at FROM conversations WHERE id = $1 AND org_id = $2 FOR UPDATE',
    [input.conversationId, input.orgId],
  );
  if (row === undefined) return 'gone';
  if (row.owner_routed_at !== null) return 'already';
  if (input.ownerUserId === null && input.jobId !== undefined) {
    const others = await tx.query(
      `SELECT 1 FROM crm_sync_jobs WHERE kind = 'owner' AND subject = $1 AND id <> $2
          AND state IN ('queued', 'working') LIMIT 1`,
      [input.conversationId, input.jobId],
    );
    if (others.length > 0) return 'waiting';
  }
  await tx.query('UPDATE conversations SET owner_routed_at = $2 WHERE id = $1', [
    input.conversationId,
    input.now,
  ]);
  if (row.assigned_user_id !== null) return 'already';
  const userId =
    input.ownerUserId ??
    (await lastRep(tx, input.orgId, input.conversationId)) ??
    (await defaultAssignee(tx, input.orgId, input.conversationId));
  if (userId !== null) {
    await assignConversation(tx, { conversationId: input.conversationId, userId, now: input.now });
    await announceInbox(tx, input.orgId, input.conversationId);
  }
  return input.ownerUserId === null ? 'fallback' : 'owner';
}

/** The active users of the org with one of these emails (a CRM owner's), by id. */
export async function activeUsersByEmail(tx: Queryable, orgId: string, emails: string[]): Promise<string[]> {
  if (emails.length === 0) return [];
  const rows = await tx.query<{ id: string }>(
    `SELECT id::text AS id FROM users
      WHERE org_id = $1 AND status = 'active' AND lower(email) = ANY($2::text[]) ORDER BY id`,
    [orgId, emails.map((e) => e.trim().toLowerCase())],
  );
  return rows.map((r) => r.id);
}

/**
 * Conversations whose owner lookup has waited longer than OWNER_WAIT_MS (the CRM is down,
 * throttled or disconnected) fall back now; a bounded number per call. Answers how many.
 */
export async function fallBackStaleOwnerRouting(db: Database, now: Date): Promise<number> {
  const stale = await db.query<{ id: string; org_id: string }>(
    `SELECT id::text AS id, org_id::text AS org_id FROM conversations
      WHERE owner_lookup_since IS NOT NULL AND owner_routed_at IS NULL AND owner_lookup_since <= $1
      ORDER BY owner_lookup_since LIMIT 100`,
    [new Date(now.getTime() - OWNER_WAIT_MS)],
  );
  for (const c of stale)
    await db.transaction((tx) =>
      finishOwnerRouting(tx, { orgId: c.org_id, conversationId: c.id, ownerUserId: null, now }),
    );
  return stale.length;
}

/**
 * Routes a customer's text, in the transaction that stores it (which announces the change after
 * the message itself). The assignee gets it unread; while the owner is looked up nobody does yet
 * (it waits in the unassigned queue), and the routing that ends the wait marks it.
 */
export async function routeReply(
  tx: Queryable,
  input: { orgId: string; conversationId: string; now: Date },
): Promise<void> {
  const [row] = await tx.query<{
    assigned_user_id: string | null;
    owner_lookup_since: Date | null;
    owner_routed_at: Date | null;
  }>('SELECT assigned_user_id, owner_lookup_since, owner_routed_at FROM conversations WHERE id = $1', [
    input.conversationId,
  ]);
  let assignee = row?.assigned_user_id ?? null;
  if (assignee === null) {
    const rep = await lastRep(tx, input.orgId, input.conversationId);
    if (rep === null && row !== undefined && row.owner_routed_at === null) {
      const waiting =
        row.owner_lookup_since === null
          ? await queueOwnerLookup(tx, input)
          : input.now.getTime() - row.owner_lookup_since.getTime() < OWNER_WAIT_MS;
      if (waiting) return;
      // No CRM to ask, or it has not answered in time (the sweep had not run yet): decided now.
      await tx.query('UPDATE conversations SET owner_routed_at = $2 WHERE id = $1', [
        input.conversationId,
        input.now,
      ]);
    }
    const pick = rep ?? (await defaultAssignee(tx, input.orgId, input.conversationId));
    if (pick !== null) {
      await assignConversation(tx, { conversationId: input.conversationId, userId: pick, now: input.now });
      assignee = pick;
    }
  }
  if (assignee !== null) await markUnread(tx, assignee, input.conversationId, input.now);
}
