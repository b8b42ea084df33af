/** One send attempt of a draft; the key is the `Idempotency-Key` the relay deduplicates on. */
export interface SendAttempt {
  key: string;
  from: string;
  to: string;
  body: string;
  /** When the attempt is a scheduled send, the instant asked for. */
  sendAt?: string | undefined;
}

/**
 * The attempt to make for `next`: the previous one (same key) when it is a retry of the same draft,
 * so a send whose outcome was unknown can never go out twice; otherwise a fresh key.
 */
export function attemptFor(
  previous: SendAttempt | null,
  next: Omit<SendAttempt, 'key'>,
  newKey: () => string = () => crypto.randomUUID(),
): SendAttempt {
  if (
    previous &&
    previous.from === next.from &&
    previous.to === next.to &&
    previous.body === next.body &&
    previous.sendAt === next.sendAt
  ) {
    return previous;
  }
  return { key: newKey(), ...next };
}
