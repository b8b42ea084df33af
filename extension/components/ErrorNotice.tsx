import { RelayError } from '../lib/relay/relay-client.ts';
import { RefusalGuide } from './RefusalGuide.tsx';

// Titles a rep understands at a glance; the relay's own message follows underneath.
const TITLES: Record<string, string> = {
  NO_CONSENT: 'No consent on record',
  OPTED_OUT: 'This contact opted out',
  QUIET_HOURS: "Outside the contact's allowed hours",
  SENSITIVE_CONTENT: 'Message blocked: sensitive content',
  FREQUENCY_CAP: 'Too many messages to this contact',
  CRM_NOT_CONNECTED: 'CRM not connected',
  CONTACT_NOT_FOUND: 'Contact not found',
  NETWORK_ERROR: 'Relay unreachable',
  UNAUTHENTICATED: 'API key rejected',
  FORBIDDEN: 'Not allowed',
  BAD_RESPONSE: 'Unexpected relay response',
  SENDING_PAUSED: 'Your sending is paused for a review',
  POLICY_NOT_ACKNOWLEDGED: 'Read your texting policy first',
  ALREADY_ANSWERED: 'A colleague just answered',
};

/** Details that are pages on the relay, shown as a link instead of a line. */
const PAGE_DETAILS = new Set(['readAt', 'policy']);

function detailLines(details: unknown): string[] {
  if (typeof details === 'string') return [details];
  if (typeof details !== 'object' || details === null || Array.isArray(details)) return [];
  return Object.entries(details)
    .filter(([k, v]) => !PAGE_DETAILS.has(k) && ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => `${k}: ${String(v)}`);
}

/** The relay page a refusal names for the rep to open (the texting policy), on that relay only. */
function pageToOpen(relay: RelayError | null): string | null {
  const details = relay?.details as { readAt?: unknown } | null | undefined;
  const path = details?.readAt;
  if (relay?.relayUrl == null || typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//'))
    return null;
  return `${relay.relayUrl}${path}`;
}

/** Shows a failed relay call: a plain title, the relay's message and its stable code. */
export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const relay = error instanceof RelayError ? error : null;
  const code = relay?.code ?? 'UNEXPECTED';
  const title = TITLES[code] ?? (relay ? 'The relay refused the request' : 'Something went wrong');
  const message = error instanceof Error ? error.message : String(error);
  const details = relay && relay.code !== 'NETWORK_ERROR' ? detailLines(relay.details) : [];
  const page = pageToOpen(relay);
  return (
    <div class="notice error" role="alert" data-error-code={code}>
      <strong>{title}</strong>
      <p>{message}</p>
      {details.length > 0 && (
        <ul>
          {details.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
      {page !== null && (
        <p>
          <a href={page} target="_blank" rel="noopener noreferrer">
            Open it on the relay (sign in with your usual account)
          </a>
        </p>
      )}
      <p class="code">Code: {code}</p>
      <RefusalGuide code={code} />
      {onRetry && (
        <p>
          <button type="button" onClick={onRetry}>
            Try again
          </button>
        </p>
      )}
    </div>
  );
}
