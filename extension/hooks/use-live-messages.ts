import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type Payment, parsePaymentAnswer } from '../lib/payment-types.ts';
import { runEventStream, type StreamState } from '../lib/relay/event-stream.ts';
import type { RelayClient } from '../lib/relay/relay-client.ts';
import { type Message, parseMessageEnvelope } from '../lib/relay-types.ts';

export type MessageListener = (message: Message, event: 'message.created' | 'message.updated') => void;
export type PaymentListener = (payment: Payment) => void;

/** A rep composing in a conversation (conversation.typing), or stopped. */
export interface TypingNotice {
  conversationId: string;
  user: { id: string; name: string };
  state: 'composing' | 'stopped';
}
export type TypingListener = (notice: TypingNotice) => void;

function parseTyping(value: unknown): TypingNotice {
  const v = value as Partial<TypingNotice> | null;
  if (
    typeof v?.conversationId !== 'string' ||
    typeof v.user?.id !== 'string' ||
    typeof v.user.name !== 'string' ||
    (v.state !== 'composing' && v.state !== 'stopped')
  )
    throw new Error('not a typing notice');
  return { conversationId: v.conversationId, user: { id: v.user.id, name: v.user.name }, state: v.state };
}

/** Parses one live event's data, or warns and answers null: a malformed event never stops the stream. */
function parsed<T>(data: string, parse: (value: unknown) => T): T | null {
  try {
    return parse(JSON.parse(data));
  } catch (error) {
    console.warn('[crm-texting] ignored malformed live event', error);
    return null;
  }
}

/**
 * One live connection per panel (not per contact), so switching contacts on an SPA page does not
 * reconnect. Components subscribe to the messages it delivers.
 */
export function useLiveMessages(client: RelayClient | null): {
  state: StreamState | null;
  subscribe(listener: MessageListener): () => void;
  subscribePayments(listener: PaymentListener): () => void;
  subscribeTyping(listener: TypingListener): () => void;
  /** Told of every routing or read-state change (`inbox.updated`) the caller may see. */
  subscribeInbox(listener: () => void): () => void;
} {
  const listeners = useRef(new Set<MessageListener>());
  const paymentListeners = useRef(new Set<PaymentListener>());
  const typingListeners = useRef(new Set<TypingListener>());
  const inboxListeners = useRef(new Set<() => void>());
  const [state, setState] = useState<StreamState | null>(null);

  useEffect(() => {
    if (!client) return undefined;
    const controller = new AbortController();
    const { url, headers } = client.eventStreamRequest();
    runEventStream({
      url,
      headers,
      fetch: client.fetcher,
      signal: controller.signal,
      onState: setState,
      onEvent: (event) => {
        if (event.event === 'payment.updated') {
          const payment = parsed(event.data, parsePaymentAnswer);
          if (payment !== null) for (const listener of paymentListeners.current) listener(payment);
          return;
        }
        if (event.event === 'conversation.typing') {
          const notice = parsed(event.data, parseTyping);
          if (notice !== null) for (const listener of typingListeners.current) listener(notice);
          return;
        }
        if (event.event === 'inbox.updated') {
          for (const listener of inboxListeners.current) listener();
          return;
        }
        if (event.event !== 'message.created' && event.event !== 'message.updated') return;
        const message = parsed(event.data, parseMessageEnvelope);
        if (message !== null) for (const listener of listeners.current) listener(message, event.event);
      },
    }).catch((error: unknown) => console.error('[crm-texting] live connection stopped', error));
    return () => controller.abort();
  }, [client]);

  const subscribe = useCallback((listener: MessageListener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const subscribePayments = useCallback((listener: PaymentListener) => {
    paymentListeners.current.add(listener);
    return () => {
      paymentListeners.current.delete(listener);
    };
  }, []);

  const subscribeTyping = useCallback((listener: TypingListener) => {
    typingListeners.current.add(listener);
    return () => {
      typingListeners.current.delete(listener);
    };
  }, []);

  const subscribeInbox = useCallback((listener: () => void) => {
    inboxListeners.current.add(listener);
    return () => {
      inboxListeners.current.delete(listener);
    };
  }, []);

  return { state, subscribe, subscribePayments, subscribeTyping, subscribeInbox };
}
