import { Type } from 'typebox';
import { errorResponses } from '../../contract/errors.ts';
import { TypingAnswerSchema } from '../../contract/inbox.ts';
import { principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { appendEvent } from '../live/events.ts';
import { userOf, visibleOr404 } from './inbox.ts';
import { Uuid } from './schemas.ts';

/** How long "composing" holds without another word from the panel. */
const TYPING_FOR_MS = 8_000;
/** A panel repeating "composing" more often than this is not announced again. */
const REPEAT_AFTER_MS = 3_000;

/**
 * "Sam is typing" (issue #19, item 4): a rep composing in a conversation tells the others who see
 * it, through `conversation.typing` on /v1/events, until `until` or a `stopped`. Repeats within a
 * few seconds are answered but not announced again (kept per relay process: at worst another
 * process announces one more).
 */
export const typingRoutes: RouteModule = (app, deps) => {
  const lastAnnounced = new Map<string, { state: string; at: number }>();
  app.post(
    '/v1/conversations/:id/typing',
    {
      config: requires('messages.send'),
      schema: {
        summary: 'Say you are composing in a conversation (or stopped)',
        description:
          'Others who see the conversation get conversation.typing {conversationId, user, state, until} on /v1/events. The panel repeats composing every few seconds while the rep types.',
        tags: ['inbox'],
        params: Type.Object({ id: Uuid }),
        body: Type.Object(
          { state: Type.Union([Type.Literal('composing'), Type.Literal('stopped')]) },
          { additionalProperties: false },
        ),
        response: { 200: TypingAnswerSchema, ...errorResponses },
        'x-error-codes': ['CONVERSATION_NOT_FOUND', 'USER_REQUIRED'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const conversationId = request.params.id;
      await visibleOr404(deps, p, conversationId);
      const userId = userOf(p);
      const now = deps.clock();
      const until = new Date(now.getTime() + (request.body.state === 'composing' ? TYPING_FOR_MS : 0));
      const key = `${userId}:${conversationId}`;
      const last = lastAnnounced.get(key);
      const repeat =
        last !== undefined && last.state === request.body.state && now.getTime() - last.at < REPEAT_AFTER_MS;
      if (!repeat) {
        lastAnnounced.set(key, { state: request.body.state, at: now.getTime() });
        if (lastAnnounced.size > 10_000) lastAnnounced.delete(lastAnnounced.keys().next().value as string);
        await appendEvent(deps.db, {
          orgId: p.orgId,
          type: 'conversation.typing',
          conversationId,
          payload: {
            conversationId,
            user: { id: userId, name: p.displayName },
            state: request.body.state,
            until: until.toISOString(),
          },
        });
      }
      return { conversationId, state: request.body.state, until: until.toISOString() };
    },
  );
};
