import { useState } from 'preact/hooks';
import { type RelayClient, RelayError } from '../lib/relay/relay-client.ts';
import type { Message } from '../lib/relay-types.ts';

/** The thread's texts waiting for a later time, and cancelling or moving one of them. */
export interface ScheduledTexts {
  /** Outbound texts still queued for a later time, soonest first. */
  scheduled: Message[];
  /** The text a change is under way for, or null. */
  busy: string | null;
  /** Why the last change of a text was refused, with that text's id. */
  error: { messageId: string; message: string } | null;
  /** How many changes the relay accepted so far (a moved or cancelled text). */
  changes: number;
  cancel(messageId: string): void;
  /** `sendAt` is an ISO instant; the relay applies every rule of a send to it again. */
  move(messageId: string, sendAt: string): void;
}

export function useScheduledTexts(
  client: RelayClient,
  messages: readonly Message[],
  merge: (messages: readonly Message[]) => void,
): ScheduledTexts {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ScheduledTexts['error']>(null);
  const [changes, setChanges] = useState(0);
  const scheduled = messages
    .filter((m) => m.direction === 'outbound' && m.status === 'queued' && m.scheduledFor !== null)
    .sort((a, b) => (a.scheduledFor ?? '').localeCompare(b.scheduledFor ?? ''));

  /** Runs one change; its answer (the message as it is now) goes into the thread at once. */
  const change = async (messageId: string, call: () => Promise<Message>): Promise<void> => {
    setBusy(messageId);
    setError(null);
    try {
      merge([await call()]);
      setChanges((n) => n + 1);
    } catch (thrown) {
      const message = thrown instanceof RelayError ? thrown.message : String(thrown);
      setError({ messageId, message });
    } finally {
      setBusy(null);
    }
  };
  return {
    scheduled,
    busy,
    error,
    changes,
    cancel: (messageId) => void change(messageId, () => client.cancelScheduled(messageId)),
    move: (messageId, sendAt) => void change(messageId, () => client.rescheduleMessage(messageId, sendAt)),
  };
}
