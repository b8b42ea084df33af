import { useState } from 'preact/hooks';
import type { ContactLookup } from '../lib/relay-types.ts';

export type BadgeStatus = 'opted_in' | 'opted_out' | 'pending' | 'unknown';

const LABELS: Record<BadgeStatus, string> = {
  opted_in: 'Opted in',
  opted_out: 'Opted out',
  pending: 'Opt-in pending',
  unknown: 'Consent unknown',
};

const SOURCES: Record<string, string> = {
  keyword: 'a text from the customer',
  sms: 'a text from the customer',
  api: 'the API',
  web_form: 'a web form',
  verbal: 'a verbal agreement',
  crm_import: 'the CRM',
  crm: 'the CRM',
};

/** What the badge shows: a double opt-in still waiting for the customer's YES reads as pending. */
export function badgeStatus(consent: ContactLookup['consent']): BadgeStatus {
  if (consent.status === 'unknown' && consent.pendingOptIn) return 'pending';
  return consent.status;
}

function date(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** The evidence behind the status, in one sentence a rep can repeat to a customer or an auditor. */
export function evidenceText(consent: ContactLookup['consent']): string {
  const status = badgeStatus(consent);
  if (status === 'pending' && consent.pendingOptIn) {
    return `We asked the customer to reply YES on ${date(consent.pendingOptIn.requestedAt)}; no answer yet.`;
  }
  const e = consent.evidence;
  if (!e) {
    return status === 'unknown'
      ? 'No consent is recorded for this number.'
      : `${LABELS[status]}${consent.updatedAt ? ` since ${date(consent.updatedAt)}` : ''}.`;
  }
  const via = e.source ? ` via ${SOURCES[e.source] ?? e.source}` : '';
  const by = e.actor ? `, recorded by ${e.actor}` : '';
  const what = e.evidence ? `: “${e.evidence}”` : '';
  return `${e.kind === 'opt_out' ? 'Opted out' : e.kind === 'opt_in' ? 'Opted in' : e.kind} on ${date(e.at)}${via}${by}${what}`;
}

/** The consent badge; hover shows the evidence, and a click or Enter shows it for keyboard and touch users. */
export function ConsentBadge({ consent }: { consent: ContactLookup['consent'] }) {
  const [open, setOpen] = useState(false);
  const status = badgeStatus(consent);
  const evidence = evidenceText(consent);
  return (
    <span class="consent">
      <button
        type="button"
        class={`badge ${status}`}
        data-consent={status}
        title={evidence}
        aria-expanded={open}
        aria-controls="consent-evidence"
        onClick={() => setOpen((o) => !o)}
      >
        {LABELS[status]}
      </button>
      {open && (
        <span id="consent-evidence" class="evidence" data-testid="consent-evidence">
          {evidence}
        </span>
      )}
    </span>
  );
}
