import type { DraftCheck } from '../hooks/use-draft-check.ts';
import { formatInZone } from '../lib/format.ts';
import { RefusalGuide } from './RefusalGuide.tsx';
import { SensitiveBlock } from './SensitiveBlock.tsx';

/**
 * The relay's live verdict on the draft: unfilled merge fields, sensitive spans, refusals (with a way
 * to record consent), quiet hours with the time it can go, and the exact text that will be sent.
 */
export function PreflightNotices({
  body,
  check,
  onRemoveFlagged,
  onRecordConsent,
}: {
  body: string;
  check: DraftCheck;
  onRemoveFlagged: () => void;
  onRecordConsent?: (() => void) | undefined;
}) {
  const { unfilled, findings, hardRefusals, quiet, current, zone } = check;
  return (
    <div id="preflight" aria-live="polite" class="preflight" data-testid="preflight">
      {unfilled.length > 0 && (
        <p class="notice warn" data-testid="unfilled-fields">
          Fill in {unfilled.join(', ')} before sending: the CRM has no value for{' '}
          {unfilled.length === 1 ? 'it' : 'them'}.
        </p>
      )}
      {findings.length > 0 && <SensitiveBlock body={body} findings={findings} onRemove={onRemoveFlagged} />}
      {hardRefusals
        // Spans already explain a sensitive-content refusal; without usable spans its message does.
        .filter((r) => r.code !== 'SENSITIVE_CONTENT' || findings.length === 0)
        .map((r) => (
          <p key={r.code} class="notice warn" data-refusal={r.code}>
            {r.message}
            {r.code === 'NO_CONSENT' && onRecordConsent && (
              <>
                {' '}
                <button type="button" class="link" onClick={onRecordConsent}>
                  Record consent…
                </button>
              </>
            )}
          </p>
        ))}
      {hardRefusals.map((r) => (
        <RefusalGuide key={`guide-${r.code}`} code={r.code} />
      ))}
      {quiet && hardRefusals.length === 0 && (
        <p class="notice warn" data-refusal="QUIET_HOURS" data-testid="quiet-hours">
          {current?.recipientLocalTime
            ? `It is ${formatInZone(new Date().toISOString(), current.recipientLocalTime.zone)} for this contact (${current.recipientLocalTime.zone}). `
            : ''}
          Texts may not go out at this hour; schedule it and it leaves at{' '}
          {quiet.nextAllowedAt && zone ? formatInZone(quiet.nextAllowedAt, zone) : 'the first allowed time'}{' '}
          their time.
        </p>
      )}
      {quiet && hardRefusals.length === 0 && <RefusalGuide code="QUIET_HOURS" />}
      {current && current.finalText !== body && hardRefusals.length === 0 && (
        <div class="final-text" data-testid="final-text">
          <span class="muted">
            Will be sent as ({current.segments} segment{current.segments === 1 ? '' : 's'}):
          </span>
          <p>{current.finalText}</p>
        </div>
      )}
      {check.checkError !== null && !check.empty && (
        <p class="muted small">
          Could not check this draft with the relay; it is checked again when you send.
        </p>
      )}
    </div>
  );
}
