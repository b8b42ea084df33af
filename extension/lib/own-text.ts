import type { Me, Message } from './relay-types.ts';

/**
 * Whether the signed-in principal sent `message`: texts carry their sender's name, which is a
 * signed-in rep's email (or display name) and an API key's label.
 */
export function isOwnText(
  message: Pick<Message, 'sentBy'>,
  me: Pick<Me, 'email' | 'displayName'> | null,
): boolean {
  return (
    me !== null &&
    message.sentBy !== null &&
    (message.sentBy === me.email || message.sentBy === me.displayName)
  );
}
