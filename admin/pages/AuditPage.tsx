import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { AuditEntry, AuditPage as AuditPageSchema, AuditVerdict } from '../../contract/audit.ts';
import { Busy, Problem, Said, Shown } from '../components/Problem.tsx';
import type { ApiProblem } from '../lib/api.ts';
import { may, type PageProps } from '../lib/console.ts';
import { saveDownload } from '../lib/download.ts';
import { asProblem } from '../lib/use-load.ts';
import { usePages } from '../lib/use-pages.ts';

type Entry = Static<typeof AuditEntry>;
type Filters = { action: string; actor: string; from: string; to: string };

/** The filters as the relay's query: dates are whole days in the admin's own time zone. */
function filterQuery(f: Filters): string {
  const q = new URLSearchParams();
  if (f.action !== '') q.set('action', f.action);
  if (f.actor !== '') q.set('actor', f.actor);
  if (f.from !== '') q.set('from', new Date(`${f.from}T00:00:00`).toISOString());
  if (f.to !== '') q.set('to', new Date(new Date(`${f.to}T00:00:00`).getTime() + 86_400_000).toISOString());
  return q.toString();
}

/** The audit log (#17 item 4): filtered pages, each entry's change, the chain check, the export. */
export function AuditPage({ api, me }: PageProps) {
  const [filters, setFilters] = useState<Filters>({ action: '', actor: '', from: '', to: '' });
  const query = filterQuery(filters);
  const pages = usePages(async (cursor) => {
    const page = await api.get<Static<typeof AuditPageSchema>>(
      `/v1/audit?limit=50&${query}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    return { items: page.entries, next: page.nextCursor };
  }, query);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [verdict, setVerdict] = useState<Static<typeof AuditVerdict> | 'checking' | null>(null);
  const [said, setSaid] = useState<string | null>(null);

  async function run(task: () => Promise<void>) {
    setProblem(null);
    try {
      await task();
    } catch (error) {
      setProblem(asProblem(error));
    }
  }

  return (
    <section>
      <form
        class="filters"
        aria-label="Filter the audit log"
        onSubmit={(event) => {
          event.preventDefault();
          const data = new FormData(event.currentTarget as HTMLFormElement);
          const text = (k: string) => String(data.get(k) ?? '').trim();
          setFilters({ action: text('action'), actor: text('actor'), from: text('from'), to: text('to') });
        }}
      >
        <label>
          Action (exact, or a prefix ending in a dot)
          <input name="action" placeholder="user." defaultValue={filters.action} />
        </label>
        <label>
          Actor
          <input name="actor" placeholder="user:<id> or cli" defaultValue={filters.actor} />
        </label>
        <label>
          From
          <input name="from" type="date" defaultValue={filters.from} />
        </label>
        <label>
          To (inclusive)
          <input name="to" type="date" defaultValue={filters.to} />
        </label>
        <button type="submit">Apply filters</button>
      </form>
      <div class="actions">
        <button
          type="button"
          onClick={() =>
            void run(async () => {
              setVerdict('checking');
              try {
                setVerdict(await api.get<Static<typeof AuditVerdict>>('/v1/audit/verify'));
              } catch (error) {
                setVerdict(null);
                throw error;
              }
            })
          }
        >
          Verify the chain
        </button>
        {may(me, 'export') && (
          <button
            type="button"
            class="secondary"
            onClick={() =>
              void run(async () => {
                setSaid('Preparing the export…');
                setSaid(`Saved ${await saveDownload(api, `/v1/audit/export?format=csv&${query}`)}.`);
              })
            }
          >
            Export as CSV
          </button>
        )}
      </div>
      {verdict === 'checking' && <Busy label="Checking every entry of the chain…" />}
      {verdict !== null && verdict !== 'checking' && <VerdictNotice verdict={verdict} />}
      <Said text={said} />
      {(problem ?? pages.problem) !== null && <Problem problem={(problem ?? pages.problem) as ApiProblem} />}
      <Shown loaded={pages.first} busy="Reading the log…" retry={pages.reload}>
        {() =>
          pages.items.length === 0 ? (
            <p>No entries match these filters.</p>
          ) : (
            <EntryTable entries={pages.items} />
          )
        }
      </Shown>
      {pages.next !== null && (
        <button type="button" class="secondary" onClick={() => void pages.more()}>
          Show older entries
        </button>
      )}
    </section>
  );
}

function VerdictNotice({ verdict }: { verdict: Static<typeof AuditVerdict> }) {
  if (verdict.intact)
    return (
      <p class="notice ok" role="status">
        The chain is intact: {verdict.entries.toLocaleString()} entries, each following the one before.
      </p>
    );
  return (
    <div class="problem" role="alert">
      <p>
        The chain is broken at entry {verdict.broken?.seq}: {verdict.broken?.message}
      </p>
      <p>
        Someone changed the log outside the relay. Keep an export of it as it stands and tell your security
        team; the entries before {verdict.broken?.seq} are still proven.
      </p>
    </div>
  );
}

function EntryTable({ entries }: { entries: Entry[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">When</th>
          <th scope="col">Who</th>
          <th scope="col">Action</th>
          <th scope="col">Target</th>
          <th scope="col">Change</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.seq}>
            <td>{e.seq}</td>
            <td>
              <time dateTime={e.occurredAt}>{new Date(e.occurredAt).toLocaleString()}</time>
            </td>
            <td>{e.actorName}</td>
            <td>
              <code>{e.action}</code>
            </td>
            <td>{e.target === null ? '—' : `${e.target.type} ${e.target.id}`}</td>
            <td>
              <details>
                <summary>Details</summary>
                <pre>
                  {JSON.stringify({ before: e.before, after: e.after, detail: e.detail, ip: e.ip }, null, 2)}
                </pre>
              </details>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
