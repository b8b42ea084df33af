import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { CrmStatusList, DeadLetter, DeadLetterList } from '../../contract/crm.ts';
import { ConnectCrm } from '../components/ConnectCrm.tsx';
import { Problem, Said, Shown } from '../components/Problem.tsx';
import type { ApiProblem } from '../lib/api.ts';
import type { PageProps } from '../lib/console.ts';
import { asProblem, useLoad } from '../lib/use-load.ts';

type Letter = Static<typeof DeadLetter>;

/** CRM sync (#17 item 4): each connection's health and queue, and the writes that failed for good, to replay. */
export function CrmSyncPage({ api }: PageProps) {
  const [status, reloadStatus] = useLoad(
    () => api.get<Static<typeof CrmStatusList>>('/v1/admin/crm/status'),
    'status',
  );
  const [state, setState] = useState('open');
  const [letters, reloadLetters] = useLoad(
    () => api.get<Static<typeof DeadLetterList>>(`/v1/admin/crm/dead-letters?state=${state}`),
    state,
  );
  const [said, setSaid] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  async function replay(letter: Letter) {
    setProblem(null);
    setSaid(null);
    try {
      await api.post(`/v1/admin/crm/dead-letters/${letter.id}/replay`, {});
      setSaid(
        `Queued the ${letter.kind} write about ${letter.subject} again; it goes to ${letter.crm} with the next sync.`,
      );
      reloadLetters();
      reloadStatus();
    } catch (error) {
      setProblem(asProblem(error));
    }
  }

  return (
    <section>
      <h2>Connections</h2>
      <Shown loaded={status} busy="Asking each CRM whether it answers…" retry={reloadStatus}>
        {({ connections }) =>
          connections.length === 0 ? (
            <p>No CRM is connected yet: connect one below; its sync shows here.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">CRM</th>
                  <th scope="col">Status</th>
                  <th scope="col">Health</th>
                  <th scope="col">Waiting</th>
                  <th scope="col">Dead letters</th>
                  <th scope="col">Backfill</th>
                </tr>
              </thead>
              <tbody>
                {connections.map((c) => (
                  <tr key={c.connectionId}>
                    <th scope="row">{c.crm}</th>
                    <td>
                      {c.status}
                      {c.statusDetail !== null && ` (${c.statusDetail})`}
                      {c.pausedUntil !== null &&
                        ` · rate-limited until ${new Date(c.pausedUntil).toLocaleTimeString()}`}
                    </td>
                    <td>{c.health.ok ? 'Answering' : `Not answering: ${c.health.detail}`}</td>
                    <td>{c.queueDepth}</td>
                    <td>{c.deadLetters}</td>
                    <td>
                      {c.backfill === null
                        ? '—'
                        : `${c.backfill.queued} queued${c.backfill.done ? ', done' : ', unfinished'}`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Shown>
      <ConnectCrm
        api={api}
        connected={status.state === 'ready' ? status.value.connections.map((c) => c.crm) : []}
      />
      <h2>Writes that failed for good</h2>
      <label>
        Show
        <select value={state} onChange={(e) => setState((e.currentTarget as HTMLSelectElement).value)}>
          <option value="open">Not replayed</option>
          <option value="replayed">Replayed</option>
          <option value="all">All</option>
        </select>
      </label>
      <Said text={said} />
      {problem !== null && <Problem problem={problem} />}
      <Shown loaded={letters} busy="Reading the dead letters…" retry={reloadLetters}>
        {({ deadLetters }) =>
          deadLetters.length === 0 ? (
            <p>None: every write reached its CRM.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">CRM</th>
                  <th scope="col">What</th>
                  <th scope="col">Why it failed</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {deadLetters.map((letter) => (
                  <tr key={letter.id}>
                    <td>
                      <time dateTime={letter.createdAt}>{new Date(letter.createdAt).toLocaleString()}</time>
                    </td>
                    <td>{letter.crm}</td>
                    <td>
                      {letter.kind} · {letter.subject}
                    </td>
                    <td>
                      <code>{letter.errorCode}</code> {letter.errorMessage}
                    </td>
                    <td>{letter.attempts}</td>
                    <td>
                      {letter.replayedAt === null ? (
                        <button type="button" onClick={() => void replay(letter)}>
                          Replay {letter.kind} write
                        </button>
                      ) : (
                        `Replayed by ${letter.replayedBy ?? 'someone'}`
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Shown>
    </section>
  );
}
