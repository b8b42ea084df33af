import { CrmError } from './errors.ts';
import type { AppendFailure, CrmId, CrmMessage } from './types.ts';

/** Splits into runs of at most `size` (a vendor's batch limit). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Keeps the first message per external key and splits off messages addressed to another CRM or
 * object type, which no retry can fix.
 */
export function screenBatch(
  crm: CrmId,
  batch: readonly CrmMessage[],
  accepts: (m: CrmMessage) => boolean,
): { accepted: CrmMessage[]; rejected: AppendFailure[] } {
  const seen = new Set<string>();
  const accepted: CrmMessage[] = [];
  const rejected: AppendFailure[] = [];
  for (const m of batch) {
    if (seen.has(m.externalKey)) continue;
    seen.add(m.externalKey);
    if (m.contact.crm !== crm || !accepts(m)) {
      rejected.push({
        externalKey: m.externalKey,
        code: 'invalid_request',
        message: `not a ${crm} record this plugin can log to: ${m.contact.crm}/${m.contact.objectType}/${m.contact.id}`,
        retryable: false,
      });
    } else accepted.push(m);
  }
  return { accepted, rejected };
}

/** The latest message per contact, for the `Last SMS at` fields. */
export function latestPerContact(messages: readonly CrmMessage[]): Map<string, CrmMessage> {
  const latest = new Map<string, CrmMessage>();
  for (const m of messages) {
    const current = latest.get(m.contact.id);
    if (current === undefined || current.occurredAt <= m.occurredAt) latest.set(m.contact.id, m);
  }
  return latest;
}

/** Errors the caller must act on (back off, re-authenticate, fix the install) rather than skip. */
const CALLER_ACTS_ON = new Set(['rate_limited', 'auth_expired', 'forbidden', 'not_installed']);

/**
 * A chunk of a batch failed as a whole: rethrows what the caller must act on, otherwise records
 * every message of the chunk as failed so the rest of the batch goes on.
 */
export function failChunk(error: unknown, part: readonly CrmMessage[], failed: AppendFailure[]): void {
  if (!(error instanceof CrmError) || CALLER_ACTS_ON.has(error.code)) throw error;
  for (const m of part) {
    failed.push({
      externalKey: m.externalKey,
      code: error.code,
      message: error.message,
      retryable: error.retryable,
    });
  }
}

/** How an outbound entry names its delivery status ("" when unknown or inbound). */
export function statusLabel(message: CrmMessage): string {
  if (message.direction !== 'outbound' || message.status === undefined || message.status === null) return '';
  return message.status === 'failed' ? 'failed (not sent)' : message.status;
}
