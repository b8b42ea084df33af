/** SMS consent on sandbox records: the relay's projection, a CRM user's edits, and the changes read back. */
import { CrmRequestError } from '../errors.ts';
import type { ConsentChangesPage, ConsentProjection, ContactRef, CrmConsentStatus } from '../types.ts';
import type { SandboxStore } from './store.ts';

/** Writes the relay's consent to the record and remembers it as projected. */
export async function projectSandboxConsent(
  store: SandboxStore,
  ref: ContactRef,
  consent: ConsentProjection,
): Promise<void> {
  store.requireInstalled();
  const record = store.requireRecord(ref);
  record.consent = {
    ...record.consent,
    status: consent.status,
    updatedAt: consent.updatedAt,
    source: consent.source,
  };
  record.projected = consent.status;
  store.touch(record);
}

/** Sets the consent status the way a CRM user would, in the CRM's own UI. */
export function setSandboxConsentInCrm(store: SandboxStore, ref: ContactRef, status: CrmConsentStatus): void {
  const record = store.requireRecord(ref);
  record.consent = { ...record.consent, status };
  store.touch(record);
}

/** Records modified after the watermark whose status differs from what the relay projected. */
export async function readSandboxConsentChanges(
  store: SandboxStore,
  since: string | null,
): Promise<ConsentChangesPage> {
  const after = since === null ? 0 : Number.parseInt(since, 10);
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new CrmRequestError('sandbox', 'invalid_request', `not a sandbox watermark: ${since}`);
  }
  const changes = [...store.records.values()]
    .filter((r) => r.modSeq > after && r.consent.status !== null && r.consent.status !== r.projected)
    .sort((a, b) => a.modSeq - b.modSeq)
    .map((r) => ({
      ref: r.ref,
      status: r.consent.status ?? 'unknown',
      changedAt: r.modifiedAt,
      source: r.consent.source,
      previouslyProjected: r.projected,
    }));
  return { changes, watermark: store.seq === 0 ? since : String(Math.max(store.seq, after)) };
}
