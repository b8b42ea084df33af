import { useState } from 'preact/hooks';
import { type RelayClient, RelayError, type SendMessageInput } from '../lib/relay/relay-client.ts';
import type { Message } from '../lib/relay-types.ts';
import { attemptFor, type SendAttempt } from '../lib/send-attempt.ts';
import type { ComposerDraft } from './use-composer-draft.ts';
import type { DraftCheck } from './use-draft-check.ts';

/** Where a send's outcome goes. */
export interface SendHandlers {
  onSent(message: Message): void;
  onRefused(error: RelayError): void;
  onQueue(input: SendMessageInput, idempotencyKey: string, error: RelayError | null): Promise<void>;
  /** Earlier texts to this contact still wait in the outbox: a new one goes behind them. */
  queueBehind: boolean;
}

/** Another rep answered the customer within the minute: the send waits for the rep to confirm. */
export interface AnsweredQuestion {
  message: string;
  confirm(): Promise<void>;
  dismiss(): void;
}

/** Sending the draft: the attempt (its key is reused by Retry), progress and the error to show. */
export interface ComposerSend {
  attempt: SendAttempt | null;
  sending: boolean;
  error: unknown;
  disabled: boolean;
  /** Set while the relay asks whether to answer a text a colleague just answered. */
  answered: AnsweredQuestion | null;
  send(): Promise<void>;
}

/** The relay's question without its advice to API clients (the panel offers a button instead). */
const askedText = (err: RelayError): string =>
  err.message.replace(/ Send anyway with confirmAnswered: true\.$/, '');

const QUEUED_BEHIND = 'Queued behind an earlier text to this contact that is still waiting to go out.';

/** Runs `action`, resolving to the error it rejected with (or `fallback`), or null when it succeeded. */
function failureOf(action: Promise<void>, fallback?: unknown): Promise<unknown> {
  return action.then(
    () => null,
    (error: unknown) => error ?? fallback,
  );
}

/** What the rep is told about a text the outbox keeps after the relay could not take it. */
function waitingNotice(err: RelayError): string {
  return err.status === 0
    ? 'No connection to the relay. The message is waiting and goes out when the connection returns.'
    : 'The relay had a problem. The message is waiting and will be retried.';
}

/** What the relay is asked to send; in quiet hours the text is scheduled for when they end. */
function sendInputFor(check: DraftCheck, body: string): SendMessageInput | null {
  const base = check.inputFor(body);
  if (!base) return null;
  return check.quiet?.nextAllowedAt ? { ...base, sendAt: check.quiet.nextAllowedAt } : base;
}

/** The question the relay asked (ALREADY_ANSWERED), with "Send anyway" under the same key. */
function answeredQuestion(
  asked: { input: SendMessageInput; key: string; message: string },
  setAsked: (value: null) => void,
  setSending: (value: boolean) => void,
  sendNow: (input: SendMessageInput, key: string) => Promise<void>,
): AnsweredQuestion {
  return {
    message: asked.message,
    async confirm() {
      setAsked(null);
      setSending(true);
      try {
        await sendNow({ ...asked.input, confirmAnswered: true }, asked.key);
      } finally {
        setSending(false);
      }
    },
    dismiss: () => setAsked(null),
  };
}

export function useComposerSend(
  client: RelayClient,
  draft: ComposerDraft,
  check: DraftCheck,
  handlers: SendHandlers,
): ComposerSend {
  const { body, setBody, setNotice } = draft;
  const [attempt, setAttempt] = useState<SendAttempt | null>(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [asked, setAsked] = useState<{ input: SendMessageInput; key: string; message: string } | null>(null);
  const disabled = sending || check.blocked || asked !== null;

  /** The text left the box for good (sent, scheduled or queued): a new draft starts. */
  const done = (notice: string | null): void => {
    setBody('');
    setAttempt(null);
    if (notice !== null) setNotice(notice);
  };

  /** The relay failed or may have the text: the outbox keeps it with its key, so it goes out once. */
  const keepInOutbox = async (input: SendMessageInput, key: string, err: RelayError): Promise<void> => {
    // Without a working outbox the draft and its key stay here, and Retry reuses the key.
    const refused = await failureOf(handlers.onQueue(input, key, err), err);
    return refused !== null ? setError(refused) : done(waitingNotice(err));
  };

  const sendNow = async (input: SendMessageInput, key: string): Promise<void> => {
    try {
      const message = await client.sendMessage(input, key);
      const scheduled = input.sendAt && check.scheduleLabel;
      done(scheduled ? `Scheduled: ${scheduled.replace(/^Schedule for /, '')}.` : null);
      handlers.onSent(message);
    } catch (err) {
      if (err instanceof RelayError && err.outcomeUnknown) return await keepInOutbox(input, key, err);
      // Nothing was sent: the rep decides, and "Send anyway" goes with the same key.
      if (err instanceof RelayError && err.code === 'ALREADY_ANSWERED')
        return setAsked({ input, key, message: askedText(err) });
      setError(err);
      // A definite refusal means nothing was accepted, so the next try is a new request.
      if (err instanceof RelayError) {
        setAttempt(null);
        check.recheck();
        handlers.onRefused(err);
      }
    }
  };

  const send = async (): Promise<void> => {
    const input = disabled ? null : sendInputFor(check, body);
    if (input === null) return;
    const next = attemptFor(attempt, {
      from: input.from,
      to: check.recipient,
      body: input.body,
      sendAt: input.sendAt,
    });
    setAttempt(next);
    setSending(true);
    setError(null);
    if (handlers.queueBehind) {
      // Sent directly it could overtake an earlier text that waits: it joins the queue instead.
      const refused = await failureOf(handlers.onQueue(input, next.key, null));
      setSending(false);
      return refused !== null ? setError(refused) : done(QUEUED_BEHIND);
    }
    try {
      await sendNow(input, next.key);
    } finally {
      setSending(false);
    }
  };

  const answered = asked === null ? null : answeredQuestion(asked, setAsked, setSending, sendNow);
  return { attempt, sending, error, disabled, answered, send };
}
