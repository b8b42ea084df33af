import { ApiError } from '../errors.ts';

/** How recent another rep's answer must be for a send to ask first. */
export const ANSWER_WINDOW_MS = 60_000;

/** Another rep's answer to the customer's latest text, as the send's facts read found it. */
export interface OtherAnswer {
  messageId: string;
  userId: string;
  name: string | null;
  at: Date;
}

/**
 * The collision guard (issue #19, item 4): a rep about to answer the customer's latest text,
 * which another rep answered within the last minute, is asked first (409 ALREADY_ANSWERED;
 * sending again with confirmAnswered goes ahead). The answer is read with the send's other facts
 * (server/sending-check/facts-reader.ts: the conversation's newest inbound text, then the newest
 * outbound text after it from another rep since `now - ANSWER_WINDOW_MS`); API keys
 * (integrations) are never asked.
 */
export function refuseDoubleAnswer(answer: OtherAnswer | null, now: Date): void {
  if (answer === null) return;
  const who = answer.name ?? 'Another rep';
  const seconds = Math.max(1, Math.round((now.getTime() - answer.at.getTime()) / 1000));
  throw new ApiError(
    409,
    'ALREADY_ANSWERED',
    `${who} answered this customer ${seconds === 1 ? '1 second' : `${seconds} seconds`} ago. Send anyway with confirmAnswered: true.`,
    {
      answeredBy: { userId: answer.userId, name: answer.name },
      messageId: answer.messageId,
      at: answer.at.toISOString(),
    },
  );
}
