import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { CrmInstallPlanSchema, CrmInstallReportSchema, CrmStatusList } from '../../contract/crm.ts';
import type { OrgSettingsSchema } from '../../contract/org-settings.ts';
import { ConnectCrm } from '../components/ConnectCrm.tsx';
import { NumbersStep } from '../components/NumbersStep.tsx';
import { PaymentsStep } from '../components/PaymentsStep.tsx';
import { Busy, Problem, Said, Shown } from '../components/Problem.tsx';
import type { AdminApi, ApiProblem } from '../lib/api.ts';
import type { PageProps } from '../lib/console.ts';
import { type SettingGroup, settingFields } from '../lib/setting-fields.ts';
import { asProblem, useLoad } from '../lib/use-load.ts';
import { GroupForm } from './SettingsPage.tsx';

const STEPS = ['Sender numbers', 'CRM', 'Payments', 'Compliance defaults', 'Done'] as const;
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
export function SetupPage({ api, me }: PageProps) {
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
        <NumbersStep api={api} me={me} onTested={(testText) => setProgress({ ...progress, testText })} />
      )}
      {step === 1 && <CrmStep api={api} onInstalled={(install) => setProgress({ ...progress, install })} />}
      {step === 2 && <PaymentsStep api={api} />}
      {step === 3 && <DefaultsStep api={api} />}
      {step === 4 && <DoneStep progress={progress} />}
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

/** Every step of the plan is done (created now or there already). */
const installed = (plan: Plan, report: Report | null): boolean =>
  report !== null &&
  plan.steps.every((s) => report.created.includes(s.target) || report.alreadyPresent.includes(s.target));

/** One step's line: what install will do, then what it did. */
function stepResult(step: Plan['steps'][number], report: Report | null): string {
  if (report === null) return step.action === 'create' ? 'create it' : 'leave it (there already)';
  if (report.created.includes(step.target)) return 'Created';
  if (report.alreadyPresent.includes(step.target)) return 'Already there';
  return 'Waiting';
}

/**
 * Creates the plan's missing fields one request at a time, so the admin sees each one happen (and,
 * if the CRM refuses one, which); what exists is reported as it is. The report grows as it goes.
 */
async function installStepByStep(
  api: AdminApi,
  crm: string,
  plan: Plan,
  say: (progress: string) => void,
  show: (report: Report) => void,
): Promise<Report> {
  const missing = plan.steps.filter((s) => s.action === 'create').map((s) => s.target);
  if (missing.length === 0) {
    const done = await api.post<Report>(`/v1/admin/crm/${crm}/install`, {});
    show(done);
    return done;
  }
  let report: Report = {
    crm,
    created: [],
    alreadyPresent: plan.steps.filter((s) => s.action === 'exists').map((s) => s.target),
  };
  for (const [i, target] of missing.entries()) {
    say(`Installing ${i + 1} of ${missing.length} in ${crm}: ${target}…`);
    const step = await api.post<Report>(`/v1/admin/crm/${crm}/install`, { steps: [target] });
    report = {
      crm,
      created: [...report.created, ...step.created],
      alreadyPresent: [...report.alreadyPresent, ...step.alreadyPresent],
    };
    show(report);
  }
  return report;
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
                ? 'This relay’s own sandbox CRM serves your organisation until you connect HubSpot or Salesforce below; then install the plugin in it.'
                : connections
                    .map(
                      (c) => `${c.crm}: ${c.health.ok ? 'answering' : `not answering (${c.health.detail})`}`,
                    )
                    .join('; ')}
            </p>
            <ConnectCrm api={api} connected={connections.map((c) => c.crm)} />
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
                        <td>{stepResult(s, report)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {!installed(plan, report) && (
                  <button
                    type="button"
                    disabled={busy !== null}
                    onClick={() =>
                      void run(`Installing in ${crm}…`, async () => {
                        // After a refused step, the plan is read again: what was created is there now.
                        const current =
                          report === null ? plan : await api.get<Plan>(`/v1/admin/crm/${crm}/install-plan`);
                        setPlan(current);
                        setReport(null);
                        const done = await installStepByStep(api, crm, current, setBusy, setReport);
                        onInstalled(done);
                      })
                    }
                  >
                    {report === null ? `Install in ${crm}` : `Install the rest in ${crm}`}
                  </button>
                )}
              </>
            )}
            {busy !== null && <Busy label={busy} />}
            <Said
              text={
                report === null || plan === null || !installed(plan, report)
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
