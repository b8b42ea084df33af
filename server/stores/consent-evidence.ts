/**
 * Consent evidence sealed at rest like message texts (044_sealed_consent_evidence.sql): under the
 * org's data key, bound to its ledger entry (`consent_event:<id>`), so evidence copied onto
 * another entry does not open. `evidence_key` NULL means the evidence is in clear.
 */
import { vaultOf } from '../crypto/vault.ts';
import type { Queryable } from '../db/database.ts';

export const evidenceContext = (eventId: number | string): string => `consent_event:${eventId}`;

/** The next ledger entry's id, so its evidence can be bound to it before it is written. */
export async function nextConsentEventId(q: Queryable): Promise<number> {
  const [row] = await q.query<{ id: number | string }>(
    `SELECT nextval(pg_get_serial_sequence('consent_events', 'id')) AS id`,
  );
  return Number(row?.id);
}

export async function sealEvidence(
  q: Queryable,
  orgId: string,
  eventId: number,
  evidence: string,
): Promise<{ evidence: string; evidenceKey: number }> {
  const { sealed, keyNo } = await vaultOf(q).seal(q, orgId, evidenceContext(eventId), evidence);
  return { evidence: sealed, evidenceKey: keyNo };
}

export async function openEvidence(
  q: Queryable,
  orgId: string,
  eventId: number | string,
  evidence: string,
  evidenceKey: number | null | undefined,
): Promise<string> {
  if (evidenceKey == null) return evidence;
  return vaultOf(q).open(q, orgId, evidenceContext(eventId), evidence, evidenceKey);
}
