/** CRM-side consent changes on HubSpot: contacts whose SMS status changed since a watermark. */
import { CrmRequestError } from '../errors.ts';
import type { ConsentChange, ConsentChangesPage } from '../types.ts';
import type { HsFilter, HubSpotApi } from './client.ts';
import { P, toConsentChange } from './mapping.ts';
import { PAGE } from './message-log.ts';

/** One page of consent changes since the watermark, and the next watermark. */
export async function readHubSpotConsentChanges(
  api: HubSpotApi,
  since: string | null,
): Promise<ConsentChangesPage> {
  const sinceMs = since === null ? null : Date.parse(since);
  if (sinceMs !== null && Number.isNaN(sinceMs)) {
    throw new CrmRequestError('hubspot', 'invalid_request', `not a HubSpot watermark: ${since}`);
  }
  const filters: HsFilter[] = [{ propertyName: P.status, operator: 'HAS_PROPERTY' }];
  if (sinceMs !== null)
    filters.unshift({ propertyName: 'lastmodifieddate', operator: 'GT', value: String(sinceMs) });
  const changes: ConsentChange[] = [];
  let watermark = sinceMs;
  let after: string | undefined;
  do {
    const page = await api.search('contacts', {
      filterGroups: [filters],
      properties: [P.status, P.source, P.projected, 'lastmodifieddate'],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
      limit: PAGE,
      ...(after === undefined ? {} : { after }),
    });
    for (const r of page.results) {
      const modified = Date.parse(r.properties.lastmodifieddate ?? '') || r.updatedAt.getTime();
      watermark = watermark === null ? modified : Math.max(watermark, modified);
      const change = toConsentChange(r);
      if (change !== null) changes.push(change);
    }
    after = page.after ?? undefined;
  } while (after !== undefined);
  return { changes, watermark: watermark === null ? null : new Date(watermark).toISOString() };
}
