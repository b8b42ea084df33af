import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { RelayClient } from '../lib/relay/relay-client.ts';
import type { TypingListener } from './use-live-messages.ts';

/** How long another rep's "composing" shows without a repeat (the relay holds it 8 s). */
const SHOW_FOR_MS = 9_000;
/** While the rep types, the relay is told again this often. */
const REPEAT_MS = 4_000;

/**
 * The collision guard's typing side (issue #19): who else is composing in the shown conversation
 * ("Sam is typing…"), and telling the others while this rep composes in it. Best effort both
 * ways: a lost notice only hides a hint.
 */
export function useTyping(options: {
  client: RelayClient;
  conversationId: string | null;
  myUserId: string | null;
  subscribeTyping(listener: TypingListener): () => void;
}): { typing: string[]; onDraft(body: string): void } {
  const { client, conversationId, myUserId, subscribeTyping } = options;
  const [others, setOthers] = useState<Record<string, { name: string; until: number }>>({});
  const [now, setNow] = useState(() => Date.now());
  const told = useRef<{ state: 'composing' | 'stopped'; at: number }>({ state: 'stopped', at: 0 });

  useEffect(() => {
    setOthers({});
    return subscribeTyping((notice) => {
      if (notice.conversationId !== conversationId || notice.user.id === myUserId) return;
      setOthers((current) => {
        const next = { ...current };
        if (notice.state === 'stopped') delete next[notice.user.id];
        else next[notice.user.id] = { name: notice.user.name, until: Date.now() + SHOW_FOR_MS };
        return next;
      });
    });
  }, [subscribeTyping, conversationId, myUserId]);

  // Expire notices nobody repeated (a closed panel never says "stopped").
  const active = Object.values(others).filter((o) => o.until > now);
  useEffect(() => {
    if (Object.keys(others).length === 0) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [others]);

  const tell = useCallback(
    (state: 'composing' | 'stopped') => {
      if (conversationId === null || myUserId === null) return;
      told.current = { state, at: Date.now() };
      client.typing(conversationId, state).catch(() => {
        // best effort: a lost notice only hides "is typing" from a colleague for a moment.
      });
    },
    [client, conversationId, myUserId],
  );

  const onDraft = useCallback(
    (body: string) => {
      const last = told.current;
      if (body.trim() === '') {
        if (last.state === 'composing') tell('stopped');
      } else if (last.state === 'stopped' || Date.now() - last.at > REPEAT_MS) tell('composing');
    },
    [tell],
  );

  // Leaving the conversation (or the page) while composing says so.
  useEffect(
    () => () => {
      if (told.current.state === 'composing') tell('stopped');
    },
    [tell],
  );

  return { typing: active.map((o) => o.name), onDraft };
}

/** "Sam is typing…", "Sam and Ana are typing…", or null. */
export function typingText(names: readonly string[]): string | null {
  if (names.length === 0) return null;
  if (names.length === 1) return `${names[0]} is typing…`;
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…`;
}
