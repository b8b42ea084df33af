import type { ConsentStatus } from '../lib/relay-types.ts';

const LABELS: Record<ConsentStatus, string> = {
  opted_in: 'Opted in',
  opted_out: 'Opted out',
  unknown: 'Consent unknown',
};

/** The contact's current consent status, as the relay's consent ledger derives it. */
export function ConsentBadge({
  status,
  updatedAt,
  source,
}: {
  status: ConsentStatus;
  updatedAt: string | null;
  source: string | null;
}) {
  const since = updatedAt ? ` since ${new Date(updatedAt).toLocaleDateString()}` : '';
  const via = source ? ` (${source})` : '';
  return (
    <span class={`badge ${status}`} data-consent={status} title={`${LABELS[status]}${since}${via}`}>
      {LABELS[status]}
    </span>
  );
}
