import type { Conversation, Message, NotificationPreference } from '../relay-types.ts';

/** A desktop notification for one inbound text. */
export interface InboundNotification {
  /** The message id, so a replayed event never notifies twice. */
  id: string;
  title: string;
  message: string;
  /** The CRM page to open on click, when the rep has opened this contact before. */
  pageUrl: string | null;
}

/** What the notifier knows about a conversation from the panel's saved threads. */
export interface KnownContact {
  name: string;
  pageUrl: string | null;
}

export interface InboundNotifierOptions {
  /** The rep's effective preference (the org's locked value wins over the rep's own). */
  preference(): Promise<NotificationPreference>;
  /** Conversations the signed-in rep has sent in (`GET /v1/conversations?mine=true`). */
  myConversations(): Promise<Conversation[]>;
  /** Name and page of the contact of a conversation, from the saved threads; null when never opened. */
  contactFor(conversationId: string): Promise<KnownContact | null>;
  notify(notification: InboundNotification): void;
  /**
   * Whether an outbound text was sent by this rep (a live stream of a role that sees every
   * conversation carries colleagues' texts too); none are taken as the rep's when absent.
   */
  isOwnText?: (message: Message) => boolean;
  now?: () => number;
}

/** How often the rep's conversation list may be re-read when a text arrives on an unknown one. */
const MINE_REREAD_MS = 5_000;
const PREVIEW = 120;

/**
 * Decides which live events become desktop notifications: new inbound texts only, on conversations
 * the rep owns (has texted in) unless they chose all or none. The list of the rep's conversations is
 * re-read when a text arrives on one it does not know yet, at most every few seconds.
 */
export class InboundNotifier {
  private mine = new Set<string>();
  private mineReadAt = Number.NEGATIVE_INFINITY;
  private readonly seen = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly options: InboundNotifierOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Remembers a conversation the rep just texted in, so the reply notifies without a lookup. */
  noteOutbound(message: Message): void {
    if (message.direction === 'outbound' && this.options.isOwnText?.(message) === true) {
      this.mine.add(message.conversationId);
    }
  }

  async handle(message: Message, event: 'message.created' | 'message.updated'): Promise<boolean> {
    if (event !== 'message.created' || message.direction !== 'inbound') return false;
    if (this.seen.has(message.id)) return false;
    const preference = await this.options.preference();
    if (preference === 'off') return false;
    if (preference === 'mine' && !(await this.owns(message.conversationId))) return false;
    this.seen.add(message.id);
    if (this.seen.size > 500) this.seen.delete(this.seen.values().next().value as string);
    // best effort: without the contact the notification names the sender's number and opens no CRM page.
    const contact = await this.options.contactFor(message.conversationId).catch(() => null);
    const body = message.body.length > PREVIEW ? `${message.body.slice(0, PREVIEW - 1)}…` : message.body;
    this.options.notify({
      id: message.id,
      title: `Text from ${contact?.name ?? message.from}`,
      message: body,
      pageUrl: contact?.pageUrl ?? null,
    });
    return true;
  }

  private async owns(conversationId: string): Promise<boolean> {
    if (this.mine.has(conversationId)) return true;
    if (this.now() - this.mineReadAt > MINE_REREAD_MS) {
      this.mineReadAt = this.now();
      try {
        const conversations = await this.options.myConversations();
        this.mine = new Set(conversations.map((c) => c.id));
      } catch {
        return false;
      }
    }
    return this.mine.has(conversationId);
  }
}
