import { useEffect, useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { NumberListSchema } from '../../contract/numbers.ts';
import type { OrgSettingsSchema } from '../../contract/org-settings.ts';
import type { PreflightSchema } from '../../contract/preflight.ts';
import { applyTemplate, MERGE_FIELDS, mergeValues } from '../../extension/lib/templates.ts';
import { Busy, Problem, Said, Shown } from '../components/Problem.tsx';
import { SenderNumbers } from '../components/SenderNumbers.tsx';
import type { AdminApi, ApiProblem } from '../lib/api.ts';
import type { PageProps, Principal } from '../lib/console.ts';
import { asProblem, useLoad } from '../lib/use-load.ts';

type Template = { name: string; body: string };
type Preflight = Static<typeof PreflightSchema>;

/** The content rules a template answers for; consent, hours and caps are judged per recipient at send. */
const CONTENT_CODES = new Set(['SENSITIVE_CONTENT', 'BODY_TOO_LONG']);
/** The number previews are judged for: content rules do not depend on it (see CONTENT_CODES). */
const SAMPLE_RECIPIENT = '+12025550143';
const SAMPLE_CONTACT = { name: 'Jane Doe' };

/** Templates and numbers (#17 item 5): shared templates with a live preview through the compliance preflight. */
export function TemplatesPage({ api, me }: PageProps) {
  const [data, reload] = useLoad(async () => {
    const [settings, numbers] = await Promise.all([
      api.get<Static<typeof OrgSettingsSchema>>('/v1/org/settings'),
      api.get<Static<typeof NumberListSchema>>('/v1/numbers'),
    ]);
    const stored = settings.settings.find((s) => s.key === 'messageTemplates')?.value;
    return { templates: Array.isArray(stored) ? (stored as Template[]) : [], numbers: numbers.numbers };
  }, 'templates');
  return (
    <Shown loaded={data} busy="Reading the templates and numbers…" retry={reload}>
      {({ templates, numbers }) => (
        <>
          <TemplateEditor api={api} me={me} initial={templates} sender={numbers[0]?.e164 ?? null} />
          <SenderNumbers api={api} me={me} numbers={numbers} reload={reload} />
        </>
      )}
    </Shown>
  );
}

function TemplateEditor({
  api,
  me,
  initial,
  sender,
}: {
  api: AdminApi;
  me: Principal;
  initial: Template[];
  sender: string | null;
}) {
  const [templates, setTemplates] = useState(initial);
  const [editing, setEditing] = useState<number | null>(null);
  const [name, setName] = useState('');
  const [body, setBody] = useState('');
  const [said, setSaid] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  async function store(next: Template[], done: string) {
    setProblem(null);
    setSaid(null);
    try {
      await api.put('/v1/org/settings/messageTemplates', { value: next.length === 0 ? null : next });
      setTemplates(next);
      setEditing(null);
      setName('');
      setBody('');
      setSaid(done);
    } catch (error) {
      setProblem(asProblem(error));
    }
  }

  return (
    <section>
      <h2>Message templates</h2>
      <p class="hint">
        Reps pick these in the panel’s composer; merge fields fill from the contact and the rep.
      </p>
      {templates.length === 0 ? (
        <p>No templates yet.</p>
      ) : (
        <ul class="cards">
          {templates.map((t, i) => (
            <li class="card" key={t.name}>
              <h3>{t.name}</h3>
              <p class="template-body">{t.body}</p>
              <button
                type="button"
                class="secondary"
                onClick={() => {
                  setEditing(i);
                  setName(t.name);
                  setBody(t.body);
                }}
              >
                Edit {t.name}
              </button>
              <button
                type="button"
                class="danger"
                onClick={() =>
                  void store(
                    templates.filter((_, j) => j !== i),
                    `Removed ${t.name}.`,
                  )
                }
              >
                Remove {t.name}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        aria-label={editing === null ? 'New template' : `Edit ${templates[editing]?.name ?? ''}`}
        onSubmit={(event) => {
          event.preventDefault();
          const entry = { name: name.trim(), body };
          const next =
            editing === null ? [...templates, entry] : templates.map((t, i) => (i === editing ? entry : t));
          void store(next, `Saved ${entry.name}: reps see it the next time their panel loads.`);
        }}
      >
        <h2>{editing === null ? 'New template' : `Edit ${templates[editing]?.name ?? ''}`}</h2>
        <label>
          Name
          <input
            required
            maxLength={60}
            value={name}
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          Text
          <textarea
            required
            rows={4}
            maxLength={1600}
            value={body}
            aria-describedby="merge-fields"
            onInput={(e) => setBody((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </label>
        <p id="merge-fields" class="hint">
          Merge fields: {MERGE_FIELDS.map((f) => `{{${f}}}`).join(', ')}
        </p>
        <Preview api={api} me={me} body={body} sender={sender} />
        <button type="submit">{editing === null ? 'Add template' : 'Save template'}</button>
        {editing !== null && (
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setEditing(null);
              setName('');
              setBody('');
            }}
          >
            Cancel
          </button>
        )}
      </form>
      <Said text={said} />
      {problem !== null && <Problem problem={problem} />}
    </section>
  );
}

/**
 * The template as a customer would read it (merge fields filled for a sample contact), judged by
 * the relay's preflight half a second after typing stops: what the content rules say, segments,
 * and the first-contact notice added to a first text.
 */
function Preview({
  api,
  me,
  body,
  sender,
}: {
  api: AdminApi;
  me: Principal;
  body: string;
  sender: string | null;
}) {
  const filled = applyTemplate(body, mergeValues(SAMPLE_CONTACT, me)).text;
  const [verdict, setVerdict] = useState<Preflight | 'checking' | ApiProblem | null>(null);
  useEffect(() => {
    if (filled.trim() === '' || sender === null) return setVerdict(null);
    setVerdict('checking');
    let current = true;
    const timer = setTimeout(() => {
      api
        .post<Preflight>('/v1/messages/preflight', { from: sender, to: SAMPLE_RECIPIENT, body: filled })
        .then(
          (answer) => current && setVerdict(answer),
          (error: unknown) => current && setVerdict(asProblem(error)),
        );
    }, 500);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, filled, sender]);
  if (body.trim() === '') return null;
  const refusals =
    verdict !== null && typeof verdict === 'object' && 'refusals' in verdict
      ? verdict.refusals.filter((r) => CONTENT_CODES.has(r.code))
      : [];
  return (
    <section class="preview" aria-label="Preview">
      <h3>Preview for {SAMPLE_CONTACT.name}</h3>
      <p class="template-body">{filled}</p>
      {sender === null && <p class="hint">Add a sender number to check the template against the rules.</p>}
      {verdict === 'checking' && <Busy label="Checking it against the rules…" />}
      {verdict !== null && typeof verdict === 'object' && 'code' in verdict && <Problem problem={verdict} />}
      {verdict !== null && typeof verdict === 'object' && 'refusals' in verdict && (
        <div role="status">
          {refusals.length === 0 ? (
            <p class="notice ok">
              Passes the content rules: {verdict.segments} {verdict.segments === 1 ? 'segment' : 'segments'} (
              {verdict.encoding}).
            </p>
          ) : (
            refusals.map((r) => (
              <p class="problem" key={r.code}>
                {r.message} <code>{r.code}</code>
              </p>
            ))
          )}
          {verdict.finalText !== filled && (
            <p class="hint">
              A first text to a customer is sent as: <q>{verdict.finalText}</q>
            </p>
          )}
        </div>
      )}
    </section>
  );
}
