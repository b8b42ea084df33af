import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { ReviewItemListSchema, ReviewItemSchema } from '../../contract/review.ts';
import type { RefusalCode } from '../../server/compliance/decide.ts';
import { Problem, Said, Shown } from '../components/Problem.tsx';
import type { ApiProblem } from '../lib/api.ts';
import type { PageProps } from '../lib/console.ts';
import { asProblem } from '../lib/use-load.ts';
import { usePages } from '../lib/use-pages.ts';

type Item = Static<typeof ReviewItemSchema>;
type ItemPage = Static<typeof ReviewItemListSchema>;

const KINDS: Record<Item['kind'], string> = {
  refused_send: 'Refused send',
  override: 'Override',
  redaction: 'Number removed from a reply',
  unclear_reply: 'Unclear reply (texting paused)',
  escalation: 'Moved off SMS',
  sample: 'Random sample',
};

/** What a refusal code in an item's reason means, for the reviewer who meets it. */
const REASONS: Record<RefusalCode, string> = {
  OPTED_OUT: 'the customer had opted out',
  NO_OPT_OUT: 'there was no opt-out to confirm',
  PAUSED_FOR_REVIEW: 'texting the number is paused until someone decides an unclear reply',
  BODY_TOO_LONG: 'the text was longer than the longest allowed',
  UNKNOWN_TIME_ZONE: 'the customer’s time zone could not be told, so quiet hours could not be checked',
  NO_CONSENT: 'there was no opt-in on record',
  QUIET_HOURS: 'it was outside the hours texting is allowed at the customer’s end',
  FREQUENCY_CAP: 'the customer had been texted as often as the policy allows',
  SENSITIVE_CONTENT: 'the text held a card number or health information',
};

const DECISIONS = [
  { value: 'ok', label: 'OK, nothing wrong' },
  { value: 'coach', label: 'Coach the rep (note required)' },
  { value: 'opt_out', label: 'Record the customer’s opt-out' },
  { value: 'escalate', label: 'Escalate for a second decision (note required)' },
] as const;

/** The review queue (#17 item 4): what the compliance layer flagged, decided one by one, audited. */
export function ReviewPage({ api }: PageProps) {
  const [status, setStatus] = useState('open');
  const [kind, setKind] = useState('');
  const query = `status=${status}${kind === '' ? '' : `&kind=${kind}`}&limit=50`;
  const pages = usePages(async (cursor) => {
    const page = await api.get<ItemPage>(
      `/v1/review-items?${query}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    return { items: page.items, next: page.nextCursor };
  }, query);
  const [said, setSaid] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  return (
    <section>
      <form class="filters" aria-label="Filter the queue" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}>
            <option value="open">Open</option>
            <option value="escalated">Escalated</option>
            <option value="closed">Closed</option>
            <option value="all">All</option>
          </select>
        </label>
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">Every kind</option>
            {Object.entries(KINDS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </form>
      <Said text={said} />
      {(problem ?? pages.problem) !== null && <Problem problem={(problem ?? pages.problem) as ApiProblem} />}
      <Shown loaded={pages.first} busy="Reading the queue…" retry={pages.reload}>
        {() => pages.items.length === 0 && <p>Nothing to review here.</p>}
      </Shown>
      <ul class="cards">
        {pages.items.map((item) => (
          <ReviewCard
            key={item.id}
            item={item}
            onDecide={async (decision, note) => {
              setProblem(null);
              setSaid(null);
              try {
                await api.post(`/v1/review-items/${item.id}/decide`, {
                  decision,
                  ...(note === '' ? {} : { note }),
                });
                setSaid(`Decided: ${DECISIONS.find((d) => d.value === decision)?.label ?? decision}.`);
                pages.reload();
              } catch (error) {
                setProblem(asProblem(error));
              }
            }}
          />
        ))}
      </ul>
      {pages.next !== null && (
        <button type="button" class="secondary" onClick={() => void pages.more()}>
          Show older items
        </button>
      )}
    </section>
  );
}

function ReviewCard({
  item,
  onDecide,
}: {
  item: Item;
  onDecide: (decision: string, note: string) => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const open = item.status !== 'closed';
  const title = `${KINDS[item.kind]}: ${item.reason}`;
  return (
    <li class="card">
      <h2>{title}</h2>
      <dl>
        {item.reason in REASONS && (
          <>
            <dt>Why</dt>
            <dd>Refused because {REASONS[item.reason as RefusalCode]}.</dd>
          </>
        )}
        <dt>Rep</dt>
        <dd>{item.rep?.name ?? item.actor ?? '—'}</dd>
        <dt>Customer</dt>
        <dd>{item.phone ?? '—'}</dd>
        <dt>First seen</dt>
        <dd>
          <time dateTime={item.createdAt}>{new Date(item.createdAt).toLocaleString()}</time>
          {item.occurrences > 1 && ` (${item.occurrences} times)`}
        </dd>
        <dt>Status</dt>
        <dd>
          {item.status}
          {item.decision !== null && ` · ${item.decision} by ${item.decidedBy ?? 'someone'}`}
          {item.note !== null && ` · “${item.note}”`}
        </dd>
      </dl>
      {open && (
        <form
          aria-label={`Decide: ${title}`}
          onSubmit={async (event) => {
            event.preventDefault();
            const data = new FormData(event.currentTarget as HTMLFormElement);
            setBusy(true);
            await onDecide(String(data.get('decision')), String(data.get('note') ?? '').trim());
            setBusy(false);
          }}
        >
          <fieldset>
            <legend>Decision</legend>
            {DECISIONS.map((d, i) => (
              <label key={d.value} class="choice">
                <input type="radio" name="decision" value={d.value} defaultChecked={i === 0} /> {d.label}
              </label>
            ))}
          </fieldset>
          <label>
            Note
            <textarea name="note" rows={2} maxLength={1000} />
          </label>
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Decide'}
          </button>
        </form>
      )}
    </li>
  );
}
