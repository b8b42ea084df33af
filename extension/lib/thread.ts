import type { Conversation, Message, SenderNumber } from './relay-types.ts';

/** The contact's side of a message. */
export function contactSide(m: Message): string {
  return m.direction === 'outbound' ? m.to : m.from;
}

/** Our sender number's side of a message. */
export function senderSide(m: Message): string {
  return m.direction === 'outbound' ? m.from : m.to;
}

/** Whether a live event belongs to the thread between this contact phone and this sender number. */
export function belongsToThread(m: Message, contactPhone: string, senderNumber: string): boolean {
  return contactSide(m) === contactPhone && senderSide(m) === senderNumber;
}

/**
 * Merges messages into a thread sorted oldest first (newest at the bottom). A message already present
 * is replaced only by a copy at least as new, so a late SSE event cannot roll back a status.
 */
export function mergeMessages(current: readonly Message[], incoming: readonly Message[]): Message[] {
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const m of incoming) {
    const existing = byId.get(m.id);
    if (!existing || Date.parse(m.updatedAt) >= Date.parse(existing.updatedAt)) byId.set(m.id, m);
  }
  return [...byId.values()].sort(
    (a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.id.localeCompare(b.id),
  );
}

/** The sender to preselect: the number of the contact's most recent conversation, else the first number. */
export function defaultSender(
  numbers: readonly SenderNumber[],
  conversations: readonly Conversation[],
): string | null {
  const known = new Set(numbers.map((n) => n.e164));
  const recent = [...conversations]
    .filter((c) => known.has(c.senderNumber))
    .sort((a, b) => Date.parse(b.lastMessageAt ?? '') - Date.parse(a.lastMessageAt ?? '') || 0)[0];
  return recent?.senderNumber ?? numbers[0]?.e164 ?? null;
}
