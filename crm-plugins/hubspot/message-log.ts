/** The message log on HubSpot: SMS Communications associated with the contact, and the contact's last-SMS properties. */
import { chunk, failChunk, latestPerContact, screenBatch } from '../batching.ts';
import type { AppendResult, ContactRef, CrmMessage, UpdateResult } from '../types.ts';
import { COMMUNICATION_TO_CONTACT, type HsFilter, type HubSpotApi } from './client.ts';
import { lastSmsProperties, P, toCommunication } from './mapping.ts';

/** HubSpot's batch create limit. */
const BATCH = 100;
/** Search pages hold at most 200 results. */
export const PAGE = 200;
/** IN filters take at most 100 values; 5 filter groups per search. */
const IN_VALUES = 100;
const GROUPS_PER_SEARCH = 5;

/** Keys of these messages that already have a Communication (a retried batch). */
async function existingKeys(api: HubSpotApi, messages: readonly CrmMessage[]): Promise<Set<string>> {
  const wanted = new Set(messages.map((m) => m.externalKey));
  const found = new Set<string>();
  const collect = async (filterGroups: HsFilter[][], stopAboveTotal: number | null): Promise<boolean> => {
    let after: string | undefined;
    do {
      const page = await api.search('communications', {
        filterGroups,
        properties: [P.messageId],
        limit: PAGE,
        ...(after === undefined ? {} : { after }),
      });
      if (after === undefined && stopAboveTotal !== null && page.total > stopAboveTotal) return false;
      for (const r of page.results) {
        const key = r.properties[P.messageId];
        if (key && wanted.has(key)) found.add(key);
      }
      after = page.after ?? undefined;
    } while (after !== undefined);
    return true;
  };
  // One search over the batch's time window usually answers for the whole batch (new messages
  // → zero results). If the window is crowded with other logged messages, ask by key instead.
  const times = messages.map((m) => m.occurredAt.getTime());
  const windowed = await collect(
    [
      [
        { propertyName: 'hs_timestamp', operator: 'GTE', value: String(Math.min(...times)) },
        { propertyName: 'hs_timestamp', operator: 'LTE', value: String(Math.max(...times)) },
        { propertyName: P.messageId, operator: 'HAS_PROPERTY' },
      ],
    ],
    2 * messages.length + PAGE,
  );
  if (!windowed) {
    for (const keys of chunk([...wanted], IN_VALUES * GROUPS_PER_SEARCH)) {
      await collect(
        chunk(keys, IN_VALUES).map((values) => [
          { propertyName: P.messageId, operator: 'IN' as const, values },
        ]),
        null,
      );
    }
  }
  return found;
}

/** Logs new messages as Communications (skipping ones a retried batch already logged). */
export async function appendHubSpotMessages(
  api: HubSpotApi,
  isOurs: (ref: ContactRef) => boolean,
  batch: readonly CrmMessage[],
): Promise<AppendResult> {
  const { accepted, rejected } = screenBatch('hubspot', batch, (m) => isOurs(m.contact));
  const result: AppendResult = { created: [], alreadyLogged: [], failed: rejected };
  if (accepted.length === 0) return result;
  const existing = await existingKeys(api, accepted);
  const fresh = accepted.filter((m) => !existing.has(m.externalKey));
  result.alreadyLogged.push(...accepted.filter((m) => existing.has(m.externalKey)).map((m) => m.externalKey));

  for (const part of chunk(fresh, BATCH)) {
    let outcome: Awaited<ReturnType<HubSpotApi['batchCreate']>>;
    try {
      outcome = await api.batchCreate(
        'communications',
        part.map((m) => ({
          properties: toCommunication(m),
          associateTo: { id: m.contact.id, typeId: COMMUNICATION_TO_CONTACT },
        })),
      );
    } catch (error) {
      // Throttling and auth need the caller to act; anything else fails just this chunk.
      failChunk(error, part, result.failed);
      continue;
    }
    const created = new Set(outcome.results.map((r) => r.properties[P.messageId]));
    for (const m of part) {
      if (created.has(m.externalKey)) {
        result.created.push(m.externalKey);
        continue;
      }
      const error =
        outcome.errors.find(
          (e) =>
            e.message.includes(m.externalKey) ||
            Object.values(e.context).some((v) => v.includes(m.externalKey)),
        ) ?? outcome.errors[0];
      result.failed.push({
        externalKey: m.externalKey,
        code: error?.category ?? 'unknown',
        message: error?.message ?? 'HubSpot did not create this entry',
        retryable: error?.category !== 'VALIDATION_ERROR',
      });
    }
  }

  const logged = new Set([...result.created, ...result.alreadyLogged]);
  const latest = latestPerContact(accepted.filter((m) => logged.has(m.externalKey)));
  for (const part of chunk([...latest.values()], BATCH)) {
    await api.batchUpdate(
      'contacts',
      part.map((m) => ({ id: m.contact.id, properties: lastSmsProperties(m) })),
    );
  }
  return result;
}

/** Rewrites the body of messages already logged. */
export async function updateHubSpotMessages(
  api: HubSpotApi,
  isOurs: (ref: ContactRef) => boolean,
  batch: readonly CrmMessage[],
): Promise<UpdateResult> {
  const { accepted, rejected } = screenBatch('hubspot', batch, (m) => isOurs(m.contact));
  const result: UpdateResult = { updated: [], notLogged: [], failed: rejected };
  // Per 100 messages: one search by message id (an IN filter takes 100 values), one batch update.
  for (const part of chunk(accepted, Math.min(BATCH, IN_VALUES))) {
    const idOf = new Map<string, string>();
    let outcome: Awaited<ReturnType<HubSpotApi['batchUpdate']>>;
    try {
      let after: string | undefined;
      do {
        const page = await api.search('communications', {
          filterGroups: [
            [{ propertyName: P.messageId, operator: 'IN', values: part.map((m) => m.externalKey) }],
          ],
          properties: [P.messageId],
          limit: PAGE,
          ...(after === undefined ? {} : { after }),
        });
        for (const r of page.results) {
          const key = r.properties[P.messageId];
          if (key) idOf.set(key, r.id);
        }
        after = page.after ?? undefined;
      } while (after !== undefined);
      const found = part.filter((m) => idOf.has(m.externalKey));
      if (found.length === 0) {
        result.notLogged.push(...part.map((m) => m.externalKey));
        continue;
      }
      outcome = await api.batchUpdate(
        'communications',
        found.map((m) => ({
          id: idOf.get(m.externalKey) as string,
          properties: { hs_communication_body: toCommunication(m).hs_communication_body as string },
        })),
      );
    } catch (error) {
      failChunk(error, part, result.failed);
      continue;
    }
    const updated = new Set(outcome.results.map((r) => r.id));
    for (const m of part) {
      const id = idOf.get(m.externalKey);
      if (id === undefined) result.notLogged.push(m.externalKey);
      else if (updated.has(id)) result.updated.push(m.externalKey);
      else if (outcome.errors.some((e) => e.category === 'OBJECT_NOT_FOUND' && e.context.ids?.includes(id)))
        result.notLogged.push(m.externalKey);
      else {
        const error = outcome.errors[0];
        result.failed.push({
          externalKey: m.externalKey,
          code: error?.category ?? 'unknown',
          message: error?.message ?? 'HubSpot did not update this entry',
          retryable: error?.category !== 'VALIDATION_ERROR',
        });
      }
    }
  }
  return result;
}
