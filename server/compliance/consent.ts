/** One row of the consent ledger as the rules see it. */
export interface ConsentEvent {
  kind: 'opt_in' | 'opt_out';
  source: string;
  occurredAt: Date;
}

export type ConsentStatus = 'opted_in' | 'opted_out' | 'unknown';

export interface DerivedConsent {
  status: ConsentStatus;
  since: Date | null;
  source: string | null;
}

/** Current consent for one (org, phone): the latest event wins; no event means unknown. */
export function deriveConsent(eventsOldestFirst: readonly ConsentEvent[]): DerivedConsent {
  const last = eventsOldestFirst.at(-1);
  if (last === undefined) return { status: 'unknown', since: null, source: null };
  return {
    status: last.kind === 'opt_in' ? 'opted_in' : 'opted_out',
    since: last.occurredAt,
    source: last.source,
  };
}
