import type { Queryable } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { phoneToken } from '../stores/phone-columns.ts';

/** How recent another rep's answer must be for a send to ask first. */
export const ANSWER_WINDOW_MS = 60_000;

/**
 * The collision guard (issue #19, item 4): a rep about to answer the customer's latest text,
 * which another rep answered within the last minute, is asked first (409 ALREADY_ANSWERED;
 * sending again with confirmAnswered goes ahead). One indexed look at the conversation's newest
 * texts; API keys (integrations) are never asked.
 */
export async function refuseDoubleAnswer(
  db: Queryable,
  input: { orgId: string; userId: string | null; senderNumberId: string; to: string; now: Date },
): Promise<void> {
  if (input.userId === null) return;
  const [answer] = await db.query<{
    id: string;
    sent_by_user_id: string;
    sent_by_name: string | null;
    created_at: Date;
  }>(
    `SELECT m.id, m.sent_by_user_id, coalesce(u.display_name, u.email) AS sent_by_name, m.created_at
       FROM conversations c
       JOIN LATERAL (SELECT created_at FROM messages
                      WHERE conversation_id = c.id AND direction = 'inbound'
                      ORDER BY created_at DESC LIMIT 1) latest ON true
       JOIN LATERAL (SELECT id, sent_by_user_id, created_at FROM messages
                      WHERE conversation_id = c.id AND direction = 'outbound' AND created_at > latest.created_at
                        AND created_at > $4 AND sent_by_user_id IS NOT NULL AND sent_by_user_id <> $5
                      ORDER BY created_at DESC LIMIT 1) m ON true
       JOIN users u ON u.id = m.sent_by_user_id
      WHERE c.org_id = $1 AND c.sender_number_id = $2 AND c.contact_phone = $3`,
    [
      input.orgId,
      input.senderNumberId,
      phoneToken(db, input.to),
      new Date(input.now.getTime() - ANSWER_WINDOW_MS),
      input.userId,
    ],
  );
  if (answer === undefined) return;
  const who = answer.sent_by_name ?? 'Another rep';
  const seconds = Math.max(1, Math.round((input.now.getTime() - answer.created_at.getTime()) / 1000));
  throw new ApiError(
    409,
    'ALREADY_ANSWERED',
    `${who} answered this customer ${seconds === 1 ? '1 second' : `${seconds} seconds`} ago. Send anyway with confirmAnswered: true.`,
    {
      answeredBy: { userId: answer.sent_by_user_id, name: answer.sent_by_name },
      messageId: answer.id,
      at: answer.created_at.toISOString(),
    },
  );
}
