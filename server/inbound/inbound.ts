import { classifyInbound, type InboundLabel } from '../compliance/classifier.ts';
import type { DerivedConsent } from '../compliance/consent.ts';
import { matchKeyword } from '../compliance/keywords.ts';
import { parseOrgSettings } from '../compliance/org-settings.ts';
import { countSegments } from '../compliance/segments.ts';
import { vaultOf } from '../crypto/vault.ts';
import type { Database, Queryable } from '../db/database.ts';
import { newId } from '../ids.ts';
import { announceInbox } from '../inbox/inbox-state.ts';
import { routeReply } from '../inbox/routing.ts';
import { appendEvent, EVENTS_CHANNEL } from '../live/events.ts';
import { flagForReview } from '../review/review-items.ts';
import {
  confirmationsSinceOptOut,
  currentConsent,
  failQueuedAfterOptOut,
  openReview,
  recordConsent,
} from '../stores/consent-store.ts';
import { sealBody, unassignedContext } from '../stores/message-bodies.ts';
import {
  getMessage,
  insertOutbound,
  type MessageRow,
  toDto,
  upsertConversation,
} from '../stores/messages.ts';
import { closeOptInRequest, pendingOptIn } from '../stores/opt-in-requests.ts';
import { phoneToken } from '../stores/phone-columns.ts';
import { type RedactedText, redactInbound } from '../stores/redaction.ts';
import { closeOpenReview, flagRedaction } from './review-flags.ts';

export interface InboundText {
  provider: string;
  providerMessageId: string;
  from: string;
  to: string;
  text: string;
}

export type InboundOutcome =
  | {
      kind: 'stored';
      message: MessageRow;
      /** The classifier's label; 'normal' is an ordinary reply. */
      intent: InboundLabel;
      reason: string;
    }
  | { kind: 'duplicate' }
  | { kind: 'unassigned' };

/**
 * Stores one inbound text exactly once. Card, SSN and bank numbers are redacted before the text
 * is stored or published. The classifier's consent change is recorded in the same transaction
 * as the message that carried it, so an opt-out is effective the moment the text is; an unclear
 * text ("not interested anymore") pauses conversation sends until a person decides.
 */
export async function receiveInbound(
  db: Database,
  input: InboundText,
  options: {
    /** The relay's clock: the text's instant, from which reply and consent windows count. */
    now: Date;
    /** Runs first in the same transaction (the webhook's nonce claim). */
    before?: (tx: Queryable) => Promise<void>;
    /** A payment link the card warning may carry (payments/card-reply.ts), or null. */
    cardReplyLink?: CardReplyLink;
  },
): Promise<InboundOutcome> {
  const { now, before, cardReplyLink } = options;
  const redacted = redactInbound(input.text);
  return db.transaction(async (tx) => {
    await before?.(tx);
    const found = await findRecipientNumber(tx, input, redacted.body);
    if (found.kind !== 'owned') return found;
    return receiveOwnedText(tx, found.owner, input, redacted, { now, cardReplyLink });
  });
}

/** The link of a request still open in the conversation, for the card warning to carry. */
export type CardReplyLink = (
  tx: Queryable,
  at: { orgId: string; conversationId: string; now: Date },
) => Promise<string | null>;

type NumberOwner = { id: string; org_id: string; org_name: string; settings: unknown };
type AutoReplyPurpose = 'opt_out_confirmation' | 'opt_in_confirmation' | 'help_reply' | 'card_warning';

/** Stores a text to one of an organisation's numbers and acts on what it means for consent. */
async function receiveOwnedText(
  tx: Queryable,
  owner: NumberOwner,
  input: InboundText,
  redacted: RedactedText,
  { now, cardReplyLink }: { now: Date; cardReplyLink: CardReplyLink | undefined },
): Promise<InboundOutcome> {
  const settings = parseOrgSettings(owner.org_name, owner.settings);
  // Serialise consent changes per (org, phone) so two keywords at once cannot interleave.
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`consent:${owner.org_id}:${input.from}`]);
  const conversationId = await upsertConversation(tx, {
    orgId: owner.org_id,
    senderNumberId: owner.id,
    contactPhone: input.from,
    inbound: true,
    now,
  });
  // Routed before the message is announced, so its event already names the assignee as a participant.
  await routeReply(tx, { orgId: owner.org_id, conversationId, now });
  const { id, message } = await storeInboundMessage(tx, {
    orgId: owner.org_id,
    conversationId,
    input,
    redacted,
    now,
  });
  await announceInbox(tx, owner.org_id, conversationId);
  const consent = await currentConsent(tx, owner.org_id, input.from);
  const verdict = classifyInbound(input.text, { currentlyOptedOut: consent.status === 'opted_out' });
  const reply = autoReplier(tx, owner, input, now);
  // The ledger keeps the stored (redacted) text as evidence, never a card number, and says
  // whether a carrier keyword or a plain-language reply ("please stop texting me") decided.
  const evidence = redacted.body;
  const source = matchKeyword(input.text, consent.status === 'opted_out') === null ? 'reply' : 'keyword';
  const optedOutNow = await applyConsentIntent(tx, {
    orgId: owner.org_id,
    phone: input.from,
    text: input.text,
    messageId: id,
    consent,
    verdict,
    evidence,
    settings,
    now,
    reply,
    /** The customer's own consent change, decided by this text. */
    recordCustomer: (kind) =>
      recordConsent(tx, {
        orgId: owner.org_id,
        phone: input.from,
        kind,
        source,
        evidence,
        actor: 'customer',
        messageId: id,
        classification: verdict.reason,
        at: now,
      }),
  });
  if (redacted.redactions.length > 0)
    await flagRedaction(tx, {
      orgId: owner.org_id,
      conversationId,
      messageId: id,
      from: input.from,
      redacted,
      now,
    });
  if (redacted.redactions.length > 0 && !optedOutNow) {
    await warnAboutCardOnce(tx, conversationId, now, async () => {
      const link = (await cardReplyLink?.(tx, { orgId: owner.org_id, conversationId, now })) ?? null;
      const body =
        link === null ? settings.cardWarningReply : `${settings.cardWarningReply} Pay securely here: ${link}`;
      await reply('card_warning', body);
    });
  }
  return { kind: 'stored', message, intent: verdict.label, reason: verdict.reason };
}

/** Queues an automatic answer to the sender, from the number they texted. */
function autoReplier(tx: Queryable, owner: NumberOwner, input: InboundText, now: Date) {
  return async (purpose: AutoReplyPurpose, body: string): Promise<void> => {
    // NOTIFY is delivered at commit, so the worker wakes once this transaction is durable.
    await tx.query(`SELECT pg_notify('outbox', ''), pg_notify('${EVENTS_CHANNEL}', '')`);
    await insertOutbound(tx, {
      orgId: owner.org_id,
      senderNumberId: owner.id,
      from: input.to,
      to: input.from,
      body,
      purpose,
      provider: input.provider,
      now,
    });
  };
}

/** A text that held a card (or SSN, bank) number gets one warning a day per conversation. */
async function warnAboutCardOnce(
  tx: Queryable,
  conversationId: string,
  now: Date,
  warn: () => Promise<void>,
): Promise<void> {
  const warned = await tx.query(
    `SELECT 1 FROM messages WHERE conversation_id = $1 AND purpose = 'card_warning'
        AND created_at > $2::timestamptz - interval '1 day' LIMIT 1`,
    [conversationId, now],
  );
  if (warned.length === 0) await warn();
}

/** Stores the customer's (redacted) text as a received message and publishes it. */
async function storeInboundMessage(
  tx: Queryable,
  {
    orgId,
    conversationId,
    input,
    redacted,
    now,
  }: { orgId: string; conversationId: string; input: InboundText; redacted: RedactedText; now: Date },
): Promise<{ id: string; message: MessageRow }> {
  const id = newId();
  // Segments and encoding describe what the customer sent (and what it cost), not the placeholder.
  const info = countSegments(input.text);
  const sealed = await sealBody(tx, orgId, id, redacted.body);
  await tx.query(
    `INSERT INTO messages (id, org_id, conversation_id, direction, from_e164, to_e164, body, body_key, status,
                           segments, encoding, provider, provider_message_id, redactions, created_at)
     VALUES ($1, $2, $3, 'inbound', $4, $5, $6, $13, 'received', $7, $8, $9, $10, $11, $12)`,
    [
      id,
      orgId,
      conversationId,
      phoneToken(tx, input.from),
      input.to,
      sealed.body,
      info.segments,
      info.encoding,
      input.provider,
      input.providerMessageId,
      redacted.redactions.length === 0 ? null : JSON.stringify(redacted.redactions),
      now,
      sealed.bodyKey,
    ],
  );
  await tx.query(`INSERT INTO message_status_events (message_id, status) VALUES ($1, 'received')`, [id]);
  const message = await getMessage(tx, id);
  if (message === null) throw new Error('inbound message vanished');
  // Whose conversation this is, read once here, so a rep's extension knows a reply is theirs
  // from the event itself instead of re-listing their conversations.
  const participants = await tx.query<{ user_id: string }>(
    'SELECT user_id::text AS user_id FROM conversation_participants WHERE conversation_id = $1 ORDER BY user_id',
    [conversationId],
  );
  await appendEvent(tx, {
    orgId,
    type: 'message.created',
    conversationId,
    payload: { message: toDto(message), participants: participants.map((p) => p.user_id) },
  });
  return { id, message };
}

/** What applyConsentIntent needs of the received text and its sender. */
interface IntentContext {
  orgId: string;
  phone: string;
  text: string;
  messageId: string;
  consent: DerivedConsent;
  verdict: ReturnType<typeof classifyInbound>;
  evidence: string;
  settings: ReturnType<typeof parseOrgSettings>;
  now: Date;
  reply: (
    purpose: 'opt_out_confirmation' | 'opt_in_confirmation' | 'help_reply',
    body: string,
  ) => Promise<void>;
  recordCustomer: (kind: 'opt_out' | 'opt_in') => Promise<unknown>;
}

/**
 * Acts on what the text means for consent: records an opt-out or opt-in (confirming a pending
 * double opt-in), answers HELP, or opens a review for an unclear text. Answers whether the
 * sender is opted out afterwards.
 */
async function applyConsentIntent(tx: Queryable, c: IntentContext): Promise<boolean> {
  const { orgId, phone, text, messageId, consent, verdict, evidence, settings, now, reply, recordCustomer } =
    c;
  const intent = verdict.label;
  let optedOutNow = consent.status === 'opted_out';
  // Double opt-in, second half: YES (or START, "you can text me") answers a pending request.
  const pending =
    intent === 'opt_out' || consent.status === 'opted_in' ? null : await pendingOptIn(tx, orgId, phone);
  const confirmsPending =
    pending !== null &&
    (intent === 'opt_in' || classifyInbound(text, { currentlyOptedOut: true }).label === 'opt_in');
  if (intent === 'opt_out') {
    await recordCustomer('opt_out');
    await failQueuedAfterOptOut(tx, orgId, phone);
    await closeOpenReview(tx, orgId, phone, 'opted_out', 'customer opted out', now);
    await closeOptInRequest(tx, orgId, phone, { status: 'superseded' });
    // A repeated STOP is recorded as evidence but not confirmed again: one confirmation only.
    if (consent.status !== 'opted_out' && (await confirmationsSinceOptOut(tx, orgId, phone)) === 0) {
      await reply('opt_out_confirmation', settings.optOutReply);
    }
    optedOutNow = true;
  } else if (pending !== null && confirmsPending) {
    await recordConsent(tx, {
      orgId: orgId,
      phone: phone,
      kind: 'opt_in',
      source: pending.source,
      evidence: `${pending.evidence} — confirmed by the customer's reply "${evidence}"`,
      actor: `customer (requested by ${pending.actor})`,
      messageId,
      classification: `double opt-in confirmed: ${verdict.reason}`,
      at: now,
    });
    await closeOptInRequest(tx, orgId, phone, { status: 'confirmed', messageId });
    await closeOpenReview(tx, orgId, phone, 'kept', 'customer opted in', now);
    await reply('opt_in_confirmation', settings.optInReply);
    optedOutNow = false;
  } else if (intent === 'opt_in') {
    await recordCustomer('opt_in');
    await closeOpenReview(tx, orgId, phone, 'kept', 'customer opted in', now);
    await reply('opt_in_confirmation', settings.optInReply);
    optedOutNow = false;
  } else if (intent === 'help' && consent.status !== 'opted_out') {
    await reply('help_reply', settings.helpReply);
  } else if (intent === 'ambiguous' && consent.status !== 'opted_out') {
    const reviewId = await openReview(tx, {
      orgId: orgId,
      phone: phone,
      messageId,
      reason: verdict.reason,
      at: now,
    });
    if (reviewId !== null)
      await flagForReview(tx, {
        orgId,
        kind: 'unclear_reply',
        reason: verdict.reason,
        dedupeKey: `review:${reviewId}`,
        sourceId: reviewId,
        messageId,
        phone,
        actor: 'customer',
        at: now,
      });
  }
  return optedOutNow;
}

/**
 * The relay number the text was sent to, with its organisation. A text seen before is a duplicate;
 * one to a number no organisation owns is kept (redacted) as unassigned.
 */
async function findRecipientNumber(
  tx: Queryable,
  input: InboundText,
  redactedBody: string,
): Promise<
  | { kind: 'duplicate' | 'unassigned' }
  | { kind: 'owned'; owner: { id: string; org_id: string; org_name: string; settings: unknown } }
> {
  const seen = await tx.query('SELECT 1 FROM messages WHERE provider = $1 AND provider_message_id = $2', [
    input.provider,
    input.providerMessageId,
  ]);
  if (seen.length > 0) return { kind: 'duplicate' };
  const owners = await tx.query<{ id: string; org_id: string; org_name: string; settings: unknown }>(
    `SELECT n.id, n.org_id, o.name AS org_name, o.settings
       FROM sender_numbers n JOIN orgs o ON o.id = n.org_id WHERE n.e164 = $1`,
    [input.to],
  );
  const owner = owners[0];
  if (owner !== undefined) return { kind: 'owned', owner };
  // No org owns it, so no org key: sealed with the master key (043_sealed_bodies.sql).
  const sealed = await vaultOf(tx).provider.sealValue(redactedBody, unassignedContext(input));
  const inserted = await tx.query(
    `INSERT INTO unassigned_inbound (provider, provider_message_id, from_e164, to_e164, body, body_sealed)
     VALUES ($1, $2, $3, $4, '', $5) ON CONFLICT DO NOTHING RETURNING id`,
    [input.provider, input.providerMessageId, phoneToken(tx, input.from), input.to, sealed],
  );
  return inserted.length === 0 ? { kind: 'duplicate' } : { kind: 'unassigned' };
}
