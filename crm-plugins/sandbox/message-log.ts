/** The message log on the sandbox CRM: timeline entries keyed by message id, and the record's last-SMS field. */
import type { AppendResult, CrmMessage, UpdateResult } from '../types.ts';
import { toSandboxEntry } from './mapping.ts';
import type { SandboxStore } from './store.ts';

/** Adds messages to their records' timelines; a retried message is found already logged. */
export async function appendSandboxMessages(
  store: SandboxStore,
  batch: readonly CrmMessage[],
): Promise<AppendResult> {
  store.requireInstalled();
  const result: AppendResult = { created: [], alreadyLogged: [], failed: [] };
  const refusing = store.takeAppendFailures();
  const seen = new Set<string>();
  for (const message of batch) {
    if (seen.has(message.externalKey)) continue;
    seen.add(message.externalKey);
    if (store.loggedKeys.has(message.externalKey)) {
      result.alreadyLogged.push(message.externalKey);
      continue;
    }
    const record = store.recordOf(message.contact);
    if (record === undefined) {
      result.failed.push({
        externalKey: message.externalKey,
        code: 'not_found',
        message: `no ${message.contact.objectType} ${message.contact.id}`,
        retryable: false,
      });
      continue;
    }
    if (refusing.has(message.externalKey)) {
      result.failed.push({
        externalKey: message.externalKey,
        code: 'unavailable',
        message: 'sandbox refused this entry (injected failure)',
        retryable: true,
      });
      continue;
    }
    record.timeline.push(toSandboxEntry(message));
    store.loggedKeys.set(message.externalKey, message.contact);
    if (record.consent.lastSmsAt === null || record.consent.lastSmsAt < message.occurredAt) {
      record.consent.lastSmsAt = message.occurredAt;
    }
    store.touch(record);
    result.created.push(message.externalKey);
  }
  return result;
}

/** Rewrites logged timeline entries in place; messages never logged are reported, not added. */
export async function updateSandboxMessages(
  store: SandboxStore,
  batch: readonly CrmMessage[],
): Promise<UpdateResult> {
  store.requireInstalled();
  const result: UpdateResult = { updated: [], notLogged: [], failed: [] };
  const seen = new Set<string>();
  for (const message of batch) {
    if (seen.has(message.externalKey)) continue;
    seen.add(message.externalKey);
    const ref = store.loggedKeys.get(message.externalKey);
    const record = ref === undefined ? undefined : store.recordOf(ref);
    const index = record?.timeline.findIndex((e) => e.externalKey === message.externalKey) ?? -1;
    if (record === undefined || index < 0) {
      result.notLogged.push(message.externalKey);
      continue;
    }
    record.timeline[index] = toSandboxEntry({ ...message, contact: ref ?? message.contact });
    result.updated.push(message.externalKey);
  }
  return result;
}
