import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { AlertListSchema, AlertSchema } from '../../contract/alerts.ts';
import { Problem, Said, Shown } from '../components/Problem.tsx';
import type { ApiProblem } from '../lib/api.ts';
import type { PageProps } from '../lib/console.ts';
import { asProblem } from '../lib/use-load.ts';
import { usePages } from '../lib/use-pages.ts';

type Alert = Static<typeof AlertSchema>;

const METRICS: Record<Alert['metric'], string> = {
  outbound: 'texts sent',
  new_recipients: 'texts to numbers never texted before',
  opt_outs: 'opt-outs',
  carrier_errors: 'carrier errors',
  new_device: 'a sign-in from a new device',
  new_country: 'a sign-in from a new country',
};

function describe(alert: Alert): string {
  const who = alert.subject === 'org' ? 'The organisation' : (alert.rep?.name ?? 'A rep');
  if (alert.metric === 'new_device')
    return `${who}: a sign-in from a new device (${alert.device ?? 'unknown'}).`;
  if (alert.metric === 'new_country')
    return `${who}: a sign-in from a new country (${alert.country ?? 'unknown'}).`;
  return `${who}: ${alert.observed} ${METRICS[alert.metric]} in the hour from ${new Date(alert.hourStart).toLocaleString()}, against about ${alert.expected.toFixed(1)} usually (${alert.deviation.toFixed(1)} standard deviations above).`;
}

/** Anomaly alerts (#17 item 4): hours far above their baseline and unusual sign-ins, resolved with a note. */
export function AlertsPage({ api }: PageProps) {
  const [state, setState] = useState('open');
  const pages = usePages(async (cursor) => {
    const page = await api.get<Static<typeof AlertListSchema>>(
      `/v1/alerts?state=${state}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    return { items: page.alerts, next: page.nextCursor };
  }, state);
  const [said, setSaid] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  async function resolve(alert: Alert, note: string, resume: boolean) {
    setProblem(null);
    setSaid(null);
    try {
      await api.post(`/v1/alerts/${alert.id}/resolve`, { ...(note === '' ? {} : { note }), resume });
      setSaid(alert.paused && resume ? 'Resolved; the rep may send again.' : 'Resolved.');
      pages.reload();
    } catch (error) {
      setProblem(asProblem(error));
    }
  }

  return (
    <section>
      <label>
        Show
        <select value={state} onChange={(e) => setState((e.currentTarget as HTMLSelectElement).value)}>
          <option value="open">Open alerts</option>
          <option value="all">All alerts</option>
        </select>
      </label>
      <Said text={said} />
      {(problem ?? pages.problem) !== null && <Problem problem={(problem ?? pages.problem) as ApiProblem} />}
      <Shown loaded={pages.first} busy="Reading the alerts…" retry={pages.reload}>
        {() => pages.items.length === 0 && <p>No alerts here.</p>}
      </Shown>
      <ul class="cards">
        {pages.items.map((alert) => (
          <AlertCard key={alert.id} alert={alert} onResolve={resolve} />
        ))}
      </ul>
      {pages.next !== null && (
        <button type="button" class="secondary" onClick={() => void pages.more()}>
          Show older alerts
        </button>
      )}
    </section>
  );
}

function AlertCard({
  alert,
  onResolve,
}: {
  alert: Alert;
  onResolve: (alert: Alert, note: string, resume: boolean) => Promise<void>;
}) {
  const [note, setNote] = useState('');
  const [resume, setResume] = useState(true);
  const title = describe(alert);
  return (
    <li class="card">
      <p>{title}</p>
      {alert.paused && alert.resolvedAt === null && (
        <p class="notice">This rep’s sending is paused until the alert is resolved.</p>
      )}
      {alert.resolvedAt !== null ? (
        <p class="hint">
          Resolved {new Date(alert.resolvedAt).toLocaleString()} by {alert.resolvedBy ?? 'someone'}
          {alert.resolutionNote !== null && `: “${alert.resolutionNote}”`}
        </p>
      ) : (
        <form
          aria-label={`Resolve: ${title}`}
          onSubmit={(event) => {
            event.preventDefault();
            void onResolve(alert, note.trim(), resume);
          }}
        >
          <label>
            What you found
            <textarea
              rows={2}
              maxLength={500}
              value={note}
              onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)}
            />
          </label>
          {alert.paused && (
            <label class="choice">
              <input
                type="checkbox"
                checked={resume}
                onChange={(e) => setResume((e.currentTarget as HTMLInputElement).checked)}
              />{' '}
              Let the rep send again
            </label>
          )}
          <button type="submit">Resolve</button>
        </form>
      )}
    </li>
  );
}
