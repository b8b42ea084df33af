/** CRM-side consent changes on Salesforce: Contacts and Leads whose SMS status changed since a watermark. */
import { CrmRequestError } from '../errors.ts';
import type { ConsentChange, ConsentChangesPage } from '../types.ts';
import type { SalesforceApi, SfRecord } from './client.ts';
import { F, parseSfDate, toConsentChange } from './mapping.ts';
import { fieldList, ident, soql } from './soql.ts';

/** One page of consent changes since the watermark, and the next watermark. */
export async function readSalesforceConsentChanges(
  api: SalesforceApi,
  since: string | null,
): Promise<ConsentChangesPage> {
  const sinceDate = since === null ? null : parseSfDate(since);
  if (since !== null && sinceDate === null) {
    throw new CrmRequestError('salesforce', 'invalid_request', `not a Salesforce watermark: ${since}`);
  }
  const changes: ConsentChange[] = [];
  let watermark = sinceDate?.getTime() ?? null;
  for (const object of ['Contact', 'Lead'] as const) {
    const fields = fieldList(['Id', F.status, F.source, F.projected, 'SystemModstamp']);
    const after = sinceDate === null ? soql`` : soql` AND SystemModstamp > ${sinceDate}`;
    const rows: SfRecord[] = await api.query(
      soql`SELECT ${fields} FROM ${ident(object)} WHERE ${ident(F.status)} != null${after} ORDER BY SystemModstamp ASC`,
    );
    for (const row of rows) {
      const stamp = parseSfDate(
        typeof row.SystemModstamp === 'string' ? row.SystemModstamp : null,
      )?.getTime();
      if (stamp !== undefined) watermark = watermark === null ? stamp : Math.max(watermark, stamp);
      const change = toConsentChange(row, object);
      if (change !== null) changes.push(change);
    }
  }
  changes.sort((a, b) => a.changedAt.getTime() - b.changedAt.getTime());
  return { changes, watermark: watermark === null ? null : new Date(watermark).toISOString() };
}
