/** The message log on Salesforce: completed Tasks upserted on the message id, and the person's last-SMS field. */
import { chunk, failChunk, latestPerContact, screenBatch } from '../batching.ts';
import type { AppendResult, ContactRef, CrmMessage, UpdateResult } from '../types.ts';
import type { SalesforceApi } from './client.ts';
import { F, OBJECT_OF, toTask } from './mapping.ts';

/** sObject collections take at most 200 records. */
const COLLECTION = 200;

/** Salesforce errors that pass on their own: the write is retried rather than dead-lettered. */
const TRANSIENT = ['UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'REQUEST_RUNNING_TOO_LONG', 'UNKNOWN'];

type TaskRow = Awaited<ReturnType<SalesforceApi['upsertMany']>>[number];

/** Why one Task was not saved, in the plugin's failure shape; appends and updates judge it alike. */
function taskFailure(m: CrmMessage, row: TaskRow | undefined) {
  const error = row?.errors[0];
  const code = error?.code ?? 'UNKNOWN';
  return {
    externalKey: m.externalKey,
    code,
    message: error?.message ?? 'Salesforce did not save this Task',
    retryable: TRANSIENT.includes(code),
  };
}

/**
 * Upserts the messages' Tasks on the message id, a collection at a time: Salesforce itself keeps
 * one Task per message, so a retried message finds its Task and an update rewrites it in place.
 * Each saved message goes to `saved` (with whether its Task is new), each refused one to `failed`.
 */
async function upsertTasks(
  api: SalesforceApi,
  messages: readonly CrmMessage[],
  saved: (m: CrmMessage, created: boolean) => void,
  failed: AppendResult['failed'],
): Promise<void> {
  for (const part of chunk(messages, COLLECTION)) {
    let rows: TaskRow[];
    try {
      rows = await api.upsertMany('Task', F.messageId, part.map(toTask));
    } catch (error) {
      // Throttling and auth need the caller to act; anything else fails just this chunk.
      failChunk(error, part, failed);
      continue;
    }
    part.forEach((m, i) => {
      const row = rows[i];
      if (row?.success) saved(m, row.created);
      else failed.push(taskFailure(m, row));
    });
  }
}

/** Logs messages as Tasks, then moves each person's last-SMS field to their newest one. */
export async function appendSalesforceMessages(
  api: SalesforceApi,
  isOurs: (ref: ContactRef) => boolean,
  batch: readonly CrmMessage[],
): Promise<AppendResult> {
  const { accepted, rejected } = screenBatch('salesforce', batch, (m) => isOurs(m.contact));
  const result: AppendResult = { created: [], alreadyLogged: [], failed: rejected };
  await upsertTasks(
    api,
    accepted,
    (m, created) => (created ? result.created : result.alreadyLogged).push(m.externalKey),
    result.failed,
  );
  const logged = new Set([...result.created, ...result.alreadyLogged]);
  const latest = latestPerContact(accepted.filter((m) => logged.has(m.externalKey)));
  for (const part of chunk([...latest.values()], COLLECTION)) {
    await api.updateMany(
      part.map((m) => ({
        attributes: { type: OBJECT_OF[m.contact.objectType] },
        Id: m.contact.id,
        [F.lastSmsAt]: m.occurredAt.toISOString(),
      })),
    );
  }
  return result;
}

/** Rewrites logged Tasks with the new status (creating any that were never logged, so the timeline ends up right). */
export async function updateSalesforceMessages(
  api: SalesforceApi,
  isOurs: (ref: ContactRef) => boolean,
  batch: readonly CrmMessage[],
): Promise<UpdateResult> {
  const { accepted, rejected } = screenBatch('salesforce', batch, (m) => isOurs(m.contact));
  const result: UpdateResult = { updated: [], notLogged: [], failed: rejected };
  await upsertTasks(api, accepted, (m) => result.updated.push(m.externalKey), result.failed);
  return result;
}
