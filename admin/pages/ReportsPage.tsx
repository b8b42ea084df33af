import { useMemo, useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type {
  DailyActivitySchema,
  IncidentReportSchema,
  PaymentReportSchema,
} from '../../contract/reports.ts';
import { formatMinor } from '../../extension/lib/money.ts';
import { DayChart, type DaySeries } from '../components/DayChart.tsx';
import { Problem, Said, Shown } from '../components/Problem.tsx';
import type { AdminApi, ApiProblem } from '../lib/api.ts';
import { may, type PageProps } from '../lib/console.ts';
import { saveDownload } from '../lib/download.ts';
import { asProblem, useLoad } from '../lib/use-load.ts';

type Day = Static<typeof DailyActivitySchema>['days'][number];
type Period = { from: string; to: string };

const DAY_MS = 86_400_000;
const PRESETS = [7, 30, 90] as const;

/** The last `days` whole UTC days up to and including today (the reports count UTC days). */
function lastDays(days: number): Period {
  const today = new Date();
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) + DAY_MS;
  return { from: new Date(end - days * DAY_MS).toISOString(), to: new Date(end).toISOString() };
}

/** Reports with charts (#17 item 7): volume and delivery, consent changes, incidents, payments; CSV downloads. */
export function ReportsPage({ api, me }: PageProps) {
  const [period, setPeriod] = useState<Period>(() => lastDays(30));
  const query = `from=${encodeURIComponent(period.from)}&to=${encodeURIComponent(period.to)}`;
  const [daily, reload] = useLoad(
    () => api.get<Static<typeof DailyActivitySchema>>(`/v1/reports/daily?${query}`),
    query,
  );
  const [said, setSaid] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  async function download(path: string) {
    setProblem(null);
    setSaid('Preparing the download…');
    try {
      setSaid(`Saved ${await saveDownload(api, path)}.`);
    } catch (error) {
      setSaid(null);
      setProblem(asProblem(error));
    }
  }

  return (
    <section>
      <PeriodPicker period={period} onPeriod={setPeriod} />
      <Said text={said} />
      {problem !== null && <Problem problem={problem} />}
      <h2>Texts and delivery</h2>
      <Shown loaded={daily} busy="Counting the period’s texts…" retry={reload}>
        {({ days }) => <DailyCharts days={days} />}
      </Shown>
      {may(me, 'export') && (
        <div class="actions">
          <button type="button" onClick={() => void download(`/v1/reports/daily?${query}&format=csv`)}>
            Download texts per day (CSV)
          </button>
          {may(me, 'consent.view') && (
            <button
              type="button"
              class="secondary"
              onClick={() => void download(`/v1/reports/consent?${query}&format=csv`)}
            >
              Download every opt-in and opt-out (CSV)
            </button>
          )}
        </div>
      )}
      {may(me, 'review.flagged') && <Incidents api={api} query={query} />}
      {may(me, 'payments.manage') && (
        <Payments api={api} query={query} onDownload={may(me, 'export') ? download : null} />
      )}
    </section>
  );
}

function PeriodPicker({ period, onPeriod }: { period: Period; onPeriod: (p: Period) => void }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="filters"
      aria-label="Report period"
      onSubmit={(event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget as HTMLFormElement);
        const from = Date.parse(`${String(data.get('from'))}T00:00:00Z`);
        const to = Date.parse(`${String(data.get('to'))}T00:00:00Z`) + DAY_MS;
        if (!(to > from)) return setError('The last day must be on or after the first.');
        if (to - from > 366 * DAY_MS) return setError('A report covers at most a year; ask for it in parts.');
        setError(null);
        onPeriod({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
      }}
    >
      <fieldset>
        <legend>Period (UTC days)</legend>
        {PRESETS.map((n) => (
          <button key={n} type="button" class="secondary" onClick={() => onPeriod(lastDays(n))}>
            Last {n} days
          </button>
        ))}
        <label>
          First day
          <input
            name="from"
            type="date"
            required
            defaultValue={period.from.slice(0, 10)}
            key={`f${period.from}`}
          />
        </label>
        <label>
          Last day
          <input
            name="to"
            type="date"
            required
            defaultValue={new Date(Date.parse(period.to) - DAY_MS).toISOString().slice(0, 10)}
            key={`t${period.to}`}
            aria-invalid={error !== null}
            aria-describedby={error === null ? undefined : 'period-error'}
          />
        </label>
        <button type="submit">Show</button>
        {error !== null && (
          <p id="period-error" class="field-error" role="alert">
            {error}
          </p>
        )}
      </fieldset>
    </form>
  );
}

function DailyCharts({ days }: { days: Day[] }) {
  const names = useMemo(() => days.map((d) => d.day), [days]);
  const volume = useMemo<DaySeries[]>(
    () => [
      { label: 'Sent', values: days.map((d) => d.outbound), color: '#1d4ed8' },
      { label: 'Received', values: days.map((d) => d.inbound), color: '#047857' },
      { label: 'Delivery rate', values: days.map((d) => d.deliveryRate), color: '#b45309', rate: true },
    ],
    [days],
  );
  const consent = useMemo<DaySeries[]>(
    () => [
      { label: 'Opt-ins', values: days.map((d) => d.optIns), color: '#047857' },
      { label: 'Opt-outs', values: days.map((d) => d.optOuts), color: '#b91c1c' },
    ],
    [days],
  );
  const sum = (k: 'outbound' | 'inbound' | 'delivered' | 'failed' | 'optIns' | 'optOuts') =>
    days.reduce((n, d) => n + d[k], 0);
  const finals = sum('delivered') + sum('failed');
  return (
    <>
      <p class="summary">
        {sum('outbound').toLocaleString()} sent, {sum('inbound').toLocaleString()} received, delivery rate{' '}
        {finals === 0 ? 'not known yet' : `${((sum('delivered') / finals) * 100).toFixed(1)} %`};{' '}
        {sum('optIns').toLocaleString()} opt-ins and {sum('optOuts').toLocaleString()} opt-outs.
      </p>
      <DayChart
        label="Texts sent and received, and the delivery rate, per day"
        unit="Texts"
        days={names}
        series={volume}
      />
      <h2>Opt-ins and opt-outs</h2>
      <DayChart label="Opt-ins and opt-outs per day" unit="Customers" days={names} series={consent} />
      <details>
        <summary>The figures as a table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              <th scope="col">Sent</th>
              <th scope="col">Received</th>
              <th scope="col">Delivered</th>
              <th scope="col">Failed</th>
              <th scope="col">Opt-ins</th>
              <th scope="col">Opt-outs</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.day}>
                <th scope="row">{d.day}</th>
                <td>{d.outbound}</td>
                <td>{d.inbound}</td>
                <td>{d.delivered}</td>
                <td>{d.failed}</td>
                <td>{d.optIns}</td>
                <td>{d.optOuts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}

function Incidents({ api, query }: { api: AdminApi; query: string }) {
  const [answer, reload] = useLoad(
    () => api.get<Static<typeof IncidentReportSchema>>(`/v1/reports/incidents?${query}`),
    query,
  );
  return (
    <>
      <h2>Compliance incidents</h2>
      <Shown loaded={answer} busy="Reading the incidents…" retry={reload}>
        {({ days }) =>
          days.length === 0 ? (
            <p>No incidents in this period.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Day (UTC)</th>
                  <th scope="col">Numbers removed from replies</th>
                  <th scope="col">Opt-outs</th>
                  <th scope="col">Unclear replies</th>
                  <th scope="col">Overrides and exceptions</th>
                </tr>
              </thead>
              <tbody>
                {days.map((d) => (
                  <tr key={d.day}>
                    <th scope="row">{d.day}</th>
                    <td>{d.redactions}</td>
                    <td>{d.optOuts}</td>
                    <td>{d.unclearReplies}</td>
                    <td>{d.overrides}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Shown>
    </>
  );
}

function Payments({
  api,
  query,
  onDownload,
}: {
  api: AdminApi;
  query: string;
  onDownload: ((path: string) => Promise<void>) | null;
}) {
  const [answer, reload] = useLoad(
    () => api.get<Static<typeof PaymentReportSchema>>(`/v1/reports/payments?${query}`),
    query,
  );
  return (
    <>
      <h2>Payment requests by status</h2>
      <Shown loaded={answer} busy="Reading the payment requests…" retry={reload}>
        {({ rows }) =>
          rows.length === 0 ? (
            <p>No payment requests in this period.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Rep</th>
                  <th scope="col">Status</th>
                  <th scope="col">Requests</th>
                  <th scope="col">Asked</th>
                  <th scope="col">Paid</th>
                  <th scope="col">Refunded</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={`${r.repUserId}-${r.status}-${r.currency}`}>
                    <td>{r.repName}</td>
                    <td>{r.status}</td>
                    <td>{r.requests}</td>
                    <td>{formatMinor(r.amountMinor, r.currency)}</td>
                    <td>{formatMinor(r.paidMinor, r.currency)}</td>
                    <td>{formatMinor(r.refundedMinor, r.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Shown>
      {onDownload !== null && (
        <button
          type="button"
          class="secondary"
          onClick={() => void onDownload(`/v1/reports/payments?${query}&format=csv`)}
        >
          Download payment requests (CSV)
        </button>
      )}
    </>
  );
}
