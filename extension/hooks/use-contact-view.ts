import type { ContactRef } from '../hosts/types.ts';
import type { StreamState } from '../lib/relay/event-stream.ts';
import type { RelayClient } from '../lib/relay/relay-client.ts';
import type { Me } from '../lib/relay-types.ts';
import type { PanelStore } from '../lib/store/store-client.ts';
import { useContactActions } from './use-contact-actions.ts';
import { useContactLoad } from './use-contact-load.ts';
import { useConversationHistory } from './use-conversation-history.ts';
import { useDraft } from './use-draft.ts';
import { useFirstPaintMark } from './use-first-paint-mark.ts';
import type { MessageListener, PaymentListener, TypingListener } from './use-live-messages.ts';
import { useLiveThread } from './use-live-thread.ts';
import { useMarkRead } from './use-mark-read.ts';
import { useOutbox } from './use-outbox.ts';
import { useSavedThread } from './use-saved-thread.ts';
import { useThreadMessages } from './use-thread-messages.ts';
import { useTyping } from './use-typing.ts';

/** What the contact view is given by the panel. */
export interface ContactViewProps {
  client: RelayClient;
  store: PanelStore | null;
  contactRef: ContactRef;
  contactKey: string;
  me: Me | null;
  live: StreamState | null;
  subscribe(listener: MessageListener): () => void;
  /** `payment.updated` events of the same live connection. */
  subscribePayments(listener: PaymentListener): () => void;
  /** `conversation.typing` events of the same live connection. */
  subscribeTyping(listener: TypingListener): () => void;
  onInbound(): void;
  onStatus(status: 'loading' | 'ready' | 'error'): void;
}

/**
 * All of one contact view's state: the contact (saved copy, then the relay), the selected sender's
 * thread and its history, live events, the draft, the outbox and the contact actions.
 */
export function useContactView(props: ContactViewProps) {
  const { client, store, contactRef, contactKey } = props;
  const thread = useThreadMessages();
  const contact = useContactLoad({
    ...props,
    liveOpen: props.live?.kind === 'open',
    onSavedThread: thread.show,
  });
  const history = useConversationHistory(client, contact, thread);
  const { draft, saveDraftSoon } = useDraft(store, contactKey);
  const outbox = useOutbox(store, contactKey, thread.merge);
  const { phone, onSent } = useLiveThread({
    ...props,
    loaded: contact.loaded,
    sender: contact.sender,
    merge: thread.merge,
    reload: contact.reload,
  });
  const actions = useContactActions(contact);
  useSavedThread(store, contactRef, contact, thread);
  const shownConversation = contact.loaded?.conversations.find((c) => c.senderNumber === contact.sender)?.id;
  useMarkRead(client, shownConversation ?? null, thread.messages, props.me?.userId != null);
  const typing = useTyping({
    client,
    conversationId: shownConversation ?? null,
    myUserId: props.me?.userId ?? null,
    subscribeTyping: props.subscribeTyping,
  });
  useFirstPaintMark(contact.loaded !== null, contact.source);
  const phoneAccess = {
    // The relay masks numbers for a role without pii.view; the panel shows what it was given.
    masked: props.me !== null && !props.me.seesPii,
    canReveal: props.me?.permissions.includes('pii.reveal') ?? false,
    reveal: async (signal: AbortSignal) => (await client.revealContactPhone(contactRef, signal)).phone,
  };
  // The draft is kept as it changes, and colleagues hear that the rep is composing.
  const onDraftChange = (body: string): void => {
    saveDraftSoon(body);
    typing.onDraft(body);
  };
  const composing = { typing: typing.typing, onDraftChange };
  return { thread, contact, history, draft, outbox, phone, onSent, actions, phoneAccess, typing: composing };
}
