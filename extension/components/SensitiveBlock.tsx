import type { SensitiveFinding } from '../lib/relay-types.ts';

const KIND_LABEL: Record<string, string> = {
  card: 'a card number',
  ssn: 'a Social Security number',
  bank: 'a bank number',
  phi: 'health information',
};

/** Splits the draft into plain and flagged runs, for showing the sensitive spans highlighted. */
function runs(
  text: string,
  findings: readonly SensitiveFinding[],
): { text: string; flagged: string | null }[] {
  const out: { text: string; flagged: string | null }[] = [];
  let at = 0;
  for (const f of findings) {
    if (f.start < at) continue;
    if (f.start > at) out.push({ text: text.slice(at, f.start), flagged: null });
    out.push({ text: text.slice(f.start, f.end), flagged: f.kind });
    at = f.end;
  }
  if (at < text.length) out.push({ text: text.slice(at), flagged: null });
  return out;
}

/** The draft with its sensitive spans highlighted, why it cannot go out, and a way to remove them. */
export function SensitiveBlock({
  body,
  findings,
  onRemove,
}: {
  body: string;
  findings: readonly SensitiveFinding[];
  onRemove: () => void;
}) {
  return (
    <div class="notice error" data-testid="sensitive-block">
      <strong>
        Blocked: the text contains{' '}
        {[...new Set(findings.map((f) => KIND_LABEL[f.kind] ?? f.kind))].join(', ')}
      </strong>
      <p class="flagged-text">
        {runs(body, findings).map((r, i) =>
          r.flagged ? (
            <mark key={i} data-testid="sensitive-span" data-kind={r.flagged}>
              {r.text}
            </mark>
          ) : (
            <span key={i}>{r.text}</span>
          ),
        )}
      </p>
      <p>
        {findings.some((f) => f.kind !== 'phi')
          ? 'Never text card, bank or Social Security numbers; send a secure payment link or call instead.'
          : 'Health information may not be texted; call the customer or use the secure portal.'}
      </p>
      <button type="button" onClick={onRemove}>
        Remove the highlighted text
      </button>
    </div>
  );
}
