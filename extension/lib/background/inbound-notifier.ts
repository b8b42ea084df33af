import type { Message, NotificationPreference } from '../relay-types.ts';

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
  /** The signed-in user's id (`userId` of GET /v1/me); null for an API key of no user. */
  myUserId(): Promise<string | null>;
  /** Name and page of the contact of a conversation, from the saved threads; null when never opened. */
  contactFor(conversationId: string): Promise<KnownContact | null>;
  notify(notification: InboundNotification): void;
  /**
   * Whether an outbound text was sent by this rep (a live stream of a role that sees every
   * conversation carries colleagues' texts too); none are taken as the rep's when absent.
   */
  isOwnText?: (message: Message) => boolean;
}

const PREVIEW = 120;
/** Conversations remembered from the rep's own outbound texts; the oldest is forgotten first. */
const MINE_REMEMBERED = 500;

/**
 * Decides which live events become desktop notifications: new inbound texts only, on conversations
 * the rep owns (has texted in) unless they chose all or none. Ownership comes from the stream
 * itself: an inbound text's event names the users who have sent in its conversation, and the rep's
 * own outbound texts (live, before any reply) mark theirs. Nothing is polled.
 */
export class InboundNotifier {
  private readonly mine = new Set<string>();
  private readonly seen = new Set<string>();

  constructor(private readonly options: InboundNotifierOptions) {}

  /** Remembers a conversation the rep just texted in, so the reply notifies even from an older relay. */
  noteOutbound(message: Message): void {
    if (message.direction === 'outbound' && this.options.isOwnText?.(message) === true) {
      this.mine.add(message.conversationId);
      if (this.mine.size > MINE_REMEMBERED) this.mine.delete(this.mine.values().next().value as string);
    }
  }

  /**
   * Notifies for a new inbound text when the preference allows it. `participants` are the users
   * who have sent in its conversation, as the event names them (null when the relay sent none).
   */
  async handle(
    message: Message,
    event: 'message.created' | 'message.updated',
    participants: readonly string[] | null = null,
  ): Promise<boolean> {
    if (event !== 'message.created' || message.direction !== 'inbound') return false;
    if (this.seen.has(message.id)) return false;
    const preference = await this.options.preference();
    if (preference === 'off') return false;
    if (preference === 'mine' && !(await this.owns(message.conversationId, participants))) return false;
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

  private async owns(conversationId: string, participants: readonly string[] | null): Promise<boolean> {
    if (this.mine.has(conversationId)) return true;
    if (participants === null) return false;
    const me = await this.options.myUserId();
    return me !== null && participants.includes(me);
  }
}
