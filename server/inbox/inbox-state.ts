import type { Queryable } from '../db/database.ts';
import { appendEvent } from '../live/events.ts';

/** Who a conversation is routed to, as the inbox and its events show it. */
export interface Assignee {
  userId: string;
  name: string | null;
}

/** A conversation's routing and read state, as `inbox.updated` carries it. */
export interface InboxState {
  conversationId: string;
  assignee: Assignee | null;
  unreadFor: string[];
}

/** Reads the conversation's assignee and who has it unread (in the caller's transaction). */
export async function inboxState(tx: Queryable, conversationId: string): Promise<InboxState> {
  const [row] = await tx.query<{ user_id: string | null; name: string | null; unread: string[] | null }>(
    `SELECT u.id::text AS user_id, coalesce(u.display_name, u.email) AS name,
            (SELECT array_agg(r.user_id::text ORDER BY r.user_id) FROM inbox_unread r
              WHERE r.conversation_id = c.id) AS unread
       FROM conversations c LEFT JOIN users u ON u.id = c.assigned_user_id
      WHERE c.id = $1`,
    [conversationId],
  );
  return {
    conversationId,
    assignee: row?.user_id ? { userId: row.user_id, name: row.name } : null,
    unreadFor: row?.unread ?? [],
  };
}

/** Announces the conversation's routing and read state on /v1/events (after the change). */
export async function announceInbox(
  tx: Queryable,
  orgId: string,
  conversationId: string,
): Promise<InboxState> {
  const state = await inboxState(tx, conversationId);
  await appendEvent(tx, { orgId, type: 'inbox.updated', conversationId, payload: state });
  return state;
}

/**
 * Routes the conversation to `userId` (null: back to the unassigned queue). The assignee becomes a
 * participant, so it sees the thread and hears its events; a reply it has not been shown moves
 * with the conversation from the old assignee to the new one. Answers false when nothing changed.
 */
export async function assignConversation(
  tx: Queryable,
  input: { conversationId: string; userId: string | null; now: Date },
): Promise<boolean> {
  const [old] = await tx.query<{ assigned_user_id: string | null; last_inbound_at: Date | null }>(
    'SELECT assigned_user_id, last_inbound_at FROM conversations WHERE id = $1 FOR UPDATE',
    [input.conversationId],
  );
  if (old === undefined || old.assigned_user_id === input.userId) return false;
  await tx.query('UPDATE conversations SET assigned_user_id = $2, assigned_at = $3 WHERE id = $1', [
    input.conversationId,
    input.userId,
    input.now,
  ]);
  if (old.assigned_user_id !== null) {
    await tx.query('DELETE FROM inbox_unread WHERE user_id = $1 AND conversation_id = $2', [
      old.assigned_user_id,
      input.conversationId,
    ]);
  }
  if (input.userId !== null) {
    await tx.query(
      `INSERT INTO conversation_participants (user_id, conversation_id, last_message_at)
       SELECT $1, c.id, c.last_message_at FROM conversations c WHERE c.id = $2
       ON CONFLICT DO NOTHING`,
      [input.userId, input.conversationId],
    );
    if (old.last_inbound_at !== null)
      await markUnread(tx, input.userId, input.conversationId, old.last_inbound_at);
  }
  return true;
}

/** The conversation has something this user has not read, since `since`. */
export async function markUnread(
  tx: Queryable,
  userId: string,
  conversationId: string,
  since: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO inbox_unread (user_id, conversation_id, since) VALUES ($1, $2, $3)
     ON CONFLICT (user_id, conversation_id) DO UPDATE SET since = greatest(inbox_unread.since, EXCLUDED.since)`,
    [userId, conversationId, since],
  );
}

/** The thread was shown to this user: nothing in it is unread for them. Answers whether it was. */
export async function markRead(tx: Queryable, userId: string, conversationId: string): Promise<boolean> {
  const gone = await tx.query(
    'DELETE FROM inbox_unread WHERE user_id = $1 AND conversation_id = $2 RETURNING 1',
    [userId, conversationId],
  );
  return gone.length > 0;
}

/** A deactivated user's conversations go back to the unassigned queue, and their unread rows away. */
export async function releaseAssignments(tx: Queryable, orgId: string, userId: string): Promise<string[]> {
  const released = await tx.query<{ id: string }>(
    `UPDATE conversations SET assigned_user_id = NULL, assigned_at = NULL
      WHERE org_id = $1 AND assigned_user_id = $2 RETURNING id::text AS id`,
    [orgId, userId],
  );
  await tx.query('DELETE FROM inbox_unread WHERE user_id = $1', [userId]);
  for (const { id } of released) await announceInbox(tx, orgId, id);
  return released.map((r) => r.id);
}
