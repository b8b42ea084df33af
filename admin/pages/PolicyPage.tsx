import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type {
  PolicyAcknowledgementListSchema,
  PolicyPublishedSchema,
  TextingPolicySchema,
} from '../../contract/policy.ts';
import { Problem, Said, Shown } from '../components/Problem.tsx';
import type { AdminApi, ApiProblem } from '../lib/api.ts';
import { may, type PageProps } from '../lib/console.ts';
import { asProblem, useLoad } from '../lib/use-load.ts';

type Policy = Static<typeof TextingPolicySchema>;

const STANDING: Record<Policy['standing'], string> = {
  current: 'You acknowledged this version',
  never: 'You have not acknowledged the policy yet',
  changed: 'The policy changed since you acknowledged it',
  yearly: 'A year has passed since you acknowledged it',
};

/**
 * The texting policy (#17 item 6): everyone reads and acknowledges it; admins publish a new version
 * and see who has not acknowledged. The panel links a rep here when a send is refused for it.
 */
export function PolicyPage({ api, me }: PageProps) {
  const [policy, reload] = useLoad(() => api.get<Policy>('/v1/policy'), 'policy');
  const [said, setSaid] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  async function acknowledge(version: number) {
    setProblem(null);
    try {
      await api.post('/v1/policy/acknowledge', { version });
      setSaid(`Thank you: your acknowledgement of version ${version} is recorded. You may text now.`);
      reload();
    } catch (error) {
      const p = asProblem(error);
      setProblem(p);
      if (p.code === 'POLICY_CHANGED') reload();
    }
  }

  return (
    <section>
      <Said text={said} />
      {problem !== null && <Problem problem={problem} />}
      <Shown loaded={policy} busy="Reading the policy…" retry={reload}>
        {(p) => (
          <>
            <p class={p.standing === 'current' ? 'notice ok' : 'notice'} role="status">
              Version {p.version}
              {p.publishedAt === null
                ? ' (the default)'
                : `, published ${new Date(p.publishedAt).toLocaleDateString()}`}
              . {STANDING[p.standing]}
              {p.acknowledgedAt !== null && ` on ${new Date(p.acknowledgedAt).toLocaleDateString()}`}.
              {p.required ? ' Your organisation requires it before you text.' : ''}
            </p>
            <article class="policy" aria-label={`Texting policy, version ${p.version}`}>
              {p.body}
            </article>
            {p.standing !== 'current' && (
              <button type="button" onClick={() => void acknowledge(p.version)}>
                I have read this policy and will follow it
              </button>
            )}
            {may(me, 'org.manage') && <PublishForm api={api} current={p.body} onPublished={reload} />}
          </>
        )}
      </Shown>
      {may(me, 'users.manage') && policy.state === 'ready' && (
        <Acknowledgements api={api} version={policy.value.version} />
      )}
    </section>
  );
}

function PublishForm({
  api,
  current,
  onPublished,
}: {
  api: AdminApi;
  current: string;
  onPublished: () => void;
}) {
  const [text, setText] = useState(current);
  const [said, setSaid] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  return (
    <form
      aria-label="Publish a new version"
      onSubmit={async (event) => {
        event.preventDefault();
        setProblem(null);
        try {
          const answer = await api.put<Static<typeof PolicyPublishedSchema>>('/v1/policy', { body: text });
          setSaid(`Published version ${answer.version}: everyone acknowledges it before their next text.`);
          onPublished();
        } catch (error) {
          setProblem(asProblem(error));
        }
      }}
    >
      <h2>Edit the policy</h2>
      <label>
        Policy text
        <textarea
          rows={14}
          maxLength={20000}
          value={text}
          onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
        />
      </label>
      <p class="hint">Publishing makes a new version; everyone must acknowledge it again before they text.</p>
      <button type="submit">Publish new version</button>
      <Said text={said} />
      {problem !== null && <Problem problem={problem} />}
    </form>
  );
}

function Acknowledgements({ api, version: current }: { api: AdminApi; version: number }) {
  const [list, reload] = useLoad(
    () => api.get<Static<typeof PolicyAcknowledgementListSchema>>('/v1/policy/acknowledgements'),
    `acknowledgements-${current}`,
  );
  return (
    <>
      <h2>Who has acknowledged</h2>
      <Shown loaded={list} busy="Reading the acknowledgements…" retry={reload}>
        {({ version, people }) => {
          const missing = people.filter((p) => p.standing !== 'current').length;
          return (
            <>
              <p>
                {missing === 0
                  ? `Everyone has acknowledged version ${version}.`
                  : `${missing} of ${people.length} people have not acknowledged version ${version}.`}
              </p>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Person</th>
                    <th scope="col">Role</th>
                    <th scope="col">Standing</th>
                    <th scope="col">Last acknowledged</th>
                  </tr>
                </thead>
                <tbody>
                  {people.map((p) => (
                    <tr key={p.userId}>
                      <td>{p.name ?? p.email}</td>
                      <td>{p.role}</td>
                      <td>
                        {p.standing === 'current'
                          ? 'Acknowledged'
                          : STANDING[p.standing].replace('You have', 'Has').replace('you', 'they')}
                      </td>
                      <td>
                        {p.acknowledgedAt === null
                          ? '—'
                          : `version ${p.acknowledgedVersion}, ${new Date(p.acknowledgedAt).toLocaleDateString()}`}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          );
        }}
      </Shown>
    </>
  );
}
