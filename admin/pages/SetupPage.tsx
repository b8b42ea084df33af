import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { CrmInstallPlanSchema, CrmInstallReportSchema, CrmStatusList } from '../../contract/crm.ts';
import type { MessageWithHistorySchema, SendAcceptedSchema } from '../../contract/messages.ts';
import type { NumberListSchema } from '../../contract/numbers.ts';
import type { OrgSettingsSchema } from '../../contract/org-settings.ts';
import { Busy, Problem, Said, Shown } from '../components/Problem.tsx';
import type { AdminApi, ApiProblem } from '../lib/api.ts';
import type { PageProps } from '../lib/console.ts';
import { type SettingGroup, settingFields } from '../lib/setting-fields.ts';
import { asProblem, useLoad } from '../lib/use-load.ts';
import { GroupForm } from './SettingsPage.tsx';

const STEPS = ['Sender numbers', 'CRM', 'Compliance defaults', 'Done'] as const;
type Plan = Static<typeof CrmInstallPlanSchema>;
type Report = Static<typeof CrmInstallReportSchema>;

/** What the wizard did, for the last step's report. */
interface Progress {
  testText: string | null;
  install: Report | null;
}

const DEFAULTS: SettingGroup = {
  title: 'Compliance defaults',
  intro:
    'What customers read first, and how consent and the texting policy work. Everything here can be changed later.',
  fields: settingFields(['identificationName', 'helpReply', 'doubleOptIn', 'requirePolicyAcknowledgement']),
};

/**
 * The setup wizard (#17 item 1), after the first-run page made the org and its owner: sender numbers
 * with a live test text, the CRM plugin's install with its plan and report, the compliance
 * defaults, and a report of what was set up.
 */
export function SetupPage({ api }: PageProps) {
  const [step, setStep] = useState(0);
  const [progress, setProgress] = useState<Progress>({ testText: null, install: null });
  return (
    <section>
      <ol class="steps" aria-label="Setup steps">
        {STEPS.map((name, i) => (
          <li key={name} aria-current={i === step ? 'step' : undefined} class={i < step ? 'done' : ''}>
            {i + 1}. {name}
          </li>
        ))}
      </ol>
      <h2>{STEPS[step]}</h2>
      {step === 0 && (
        <NumbersStep api={api} onTested={(testText) => setProgress({ ...progress, testText })} />
      )}
      {step === 1 && <CrmStep api={api} onInstalled={(install) => setProgress({ ...progress, install })} />}
      {step === 2 && <DefaultsStep api={api} />}
      {step === 3 && <DoneStep progress={progress} />}
      <div class="actions">
        {step > 0 && (
          <button type="button" class="secondary" onClick={() => setStep(step - 1)}>
            Back
          </button>
        )}
        {step < STEPS.length - 1 && (
          <button type="button" onClick={() => setStep(step + 1)}>
            Next: {STEPS[step + 1]}
          </button>
        )}
      </div>
    </section>
  );
}

function NumbersStep({ api, onTested }: { api: AdminApi; onTested: (what: string) => void }) {
  const [numbers, reload] = useLoad(() => api.get<Static<typeof NumberListSchema>>('/v1/numbers'), 'numbers');
  const [phone, setPhone] = useState('');
  const [progress, setProgressText] = useState<string | null>(null);
  const [said, setSaid] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  async function testText(from: string) {
    setProblem(null);
    setSaid(null);
    try {
      setProgressText('Recording that this phone is yours and agrees to the test…');
      await api.post('/v1/consent', {
        phone,
        kind: 'opt_in',
        source: 'web_form',
        evidence: 'Entered by the admin as their own phone for the setup test text (admin console)',
      });
      setProgressText('Sending the test text…');
      const sent = await api.post<Static<typeof SendAcceptedSchema>>(
        '/v1/messages',
        {
          from,
          to: phone,
          body: 'This is the CRM Texting setup test: your sender number works. Reply STOP to opt out.',
        },
        { 'idempotency-key': crypto.randomUUID() },
      );
      // Follow it to the provider's answer, for up to half a minute.
      for (let i = 0; i < 30; i++) {
        const { message } = await api.get<Static<typeof MessageWithHistorySchema>>(
          `/v1/messages/${sent.message.id}`,
        );
        setProgressText(`The test text is ${message.status}…`);
        if (['delivered', 'undelivered', 'failed'].includes(message.status)) {
          const outcome = `Test text from ${from} to ${phone}: ${message.status}.`;
          setSaid(outcome);
          onTested(outcome);
          break;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setProgressText(null);
    }
  }

  return (
    <Shown loaded={numbers} busy="Reading your sender numbers…" retry={reload}>
      {({ numbers: list }) =>
        list.length === 0 ? (
          <p>
            No sender number yet. Add the numbers your SMS provider gave you with{' '}
            <code>npm run cli -- number add</code>, then come back.
          </p>
        ) : (
          <>
            <p>
              Your sender numbers:{' '}
              {list.map((n) => `${n.e164} (${n.numberType.replace('_', ' ')})`).join(', ')}. Send a test text
              to your own mobile to see one leave and arrive.
            </p>
            <label>
              Your mobile number
              <input
                type="tel"
                autocomplete="tel"
                value={phone}
                onInput={(e) => setPhone((e.currentTarget as HTMLInputElement).value)}
              />
            </label>
            <button
              type="button"
              disabled={phone.trim() === '' || progress !== null}
              onClick={() => void testText(list[0]?.e164 ?? '')}
            >
              Send a test text
            </button>
            {progress !== null && <Busy label={progress} />}
            <Said text={said} />
            {problem !== null && <Problem problem={problem} />}
          </>
        )
      }
    </Shown>
  );
}

function CrmStep({ api, onInstalled }: { api: AdminApi; onInstalled: (report: Report) => void }) {
  const [status, reload] = useLoad(
    () => api.get<Static<typeof CrmStatusList>>('/v1/admin/crm/status'),
    'crm',
  );
  const [plan, setPlan] = useState<Plan | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  async function run(label: string, task: () => Promise<void>) {
    setProblem(null);
    setBusy(label);
    try {
      await task();
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(null);
    }
  }

  return (
    <Shown loaded={status} busy="Asking your CRM whether it answers…" retry={reload}>
      {({ connections }) => {
        const crm = connections.find((c) => c.status !== 'disconnected')?.crm ?? 'sandbox';
        return (
          <>
            <p>
              {connections.length === 0
                ? 'This relay’s own sandbox CRM serves your organisation. To connect HubSpot or Salesforce, run npm run cli -- crm connect, then come back to install.'
                : connections
                    .map(
                      (c) => `${c.crm}: ${c.health.ok ? 'answering' : `not answering (${c.health.detail})`}`,
                    )
                    .join('; ')}
            </p>
            <button
              type="button"
              class="secondary"
              onClick={() =>
                void run('Reading the CRM’s fields…', async () =>
                  setPlan(await api.get<Plan>(`/v1/admin/crm/${crm}/install-plan`)),
                )
              }
            >
              Check what installing creates in {crm}
            </button>
            {plan !== null && (
              <>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Field or setting</th>
                      <th scope="col">What it is</th>
                      <th scope="col">{report === null ? 'Install will' : 'Result'}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {plan.steps.map((s) => (
                      <tr key={s.target}>
                        <td>
                          <code>{s.target}</code>
                        </td>
                        <td>{s.description}</td>
                        <td>
                          {report === null
                            ? s.action === 'create'
                              ? 'create it'
                              : 'leave it (there already)'
                            : report.created.includes(s.target)
                              ? 'Created'
                              : 'Already there'}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {report === null && (
                  <button
                    type="button"
                    onClick={() =>
                      void run(`Installing ${plan.steps.length} fields and settings in ${crm}…`, async () => {
                        const done = await api.post<Report>(`/v1/admin/crm/${crm}/install`, {});
                        setReport(done);
                        onInstalled(done);
                      })
                    }
                  >
                    Install in {crm}
                  </button>
                )}
              </>
            )}
            {busy !== null && <Busy label={busy} />}
            <Said
              text={
                report === null
                  ? null
                  : `Installed in ${report.crm}: ${report.created.length} created, ${report.alreadyPresent.length} already there.`
              }
            />
            {problem !== null && <Problem problem={problem} />}
          </>
        );
      }}
    </Shown>
  );
}

function DefaultsStep({ api }: { api: AdminApi }) {
  const [values, reload] = useLoad(async () => {
    const answer = await api.get<Static<typeof OrgSettingsSchema>>('/v1/org/settings');
    return new Map(answer.settings.map((s) => [s.key, s.value]));
  }, 'defaults');
  return (
    <Shown loaded={values} busy="Reading the settings…" retry={reload}>
      {(map) => <GroupForm api={api} group={DEFAULTS} values={map} />}
    </Shown>
  );
}

function DoneStep({ progress }: { progress: Progress }) {
  return (
    <>
      <p>Your organisation is set up. What this wizard did:</p>
      <ul>
        <li>{progress.testText ?? 'No test text was sent.'}</li>
        <li>
          {progress.install === null
            ? 'The CRM plugin was not installed here.'
            : `CRM plugin installed in ${progress.install.crm}: ${progress.install.created.length} created, ${progress.install.alreadyPresent.length} already there.`}
        </li>
      </ul>
      <p>
        Next: invite your team on <a href="#/users">Users and roles</a>, read the{' '}
        <a href="#/policy">texting policy</a>, and load the browser extension (see the README).
      </p>
    </>
  );
}
