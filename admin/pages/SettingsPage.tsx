import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { OrgSettingsSchema } from '../../contract/org-settings.ts';
import { Busy, Problem, Said, Shown } from '../components/Problem.tsx';
import { Reauthenticate } from '../components/Reauthenticate.tsx';
import type { AdminApi, ApiProblem } from '../lib/api.ts';
import type { PageProps } from '../lib/console.ts';
import { otherGroup, SETTING_GROUPS, type SettingField, type SettingGroup } from '../lib/setting-fields.ts';
import { asProblem, useLoad } from '../lib/use-load.ts';

/** A field's value as its form sends it: text as typed, a checkbox as true/false; '' unsets. */
type Draft = Record<string, string | boolean>;

function draftOf(value: unknown, field: SettingField): string | boolean {
  if (field.kind === 'boolean') return value === true;
  return value === null || value === undefined ? '' : String(value);
}

/** Compliance settings (#17 item 3): the org's settings in groups, each saved with progress. */
export function SettingsPage({ api }: PageProps) {
  const [loaded, reload] = useLoad(async () => {
    const answer = await api.get<Static<typeof OrgSettingsSchema>>('/v1/org/settings');
    return new Map(answer.settings.map((s) => [s.key, s.value]));
  }, 'settings');
  return (
    <Shown loaded={loaded} busy="Reading the settings…" retry={reload}>
      {(values) => {
        const other = otherGroup(values);
        return (
          <>
            {[...SETTING_GROUPS, ...(other === null ? [] : [other])].map((group) => (
              <GroupForm key={group.title} api={api} group={group} values={values} />
            ))}
          </>
        );
      }}
    </Shown>
  );
}

export function GroupForm({
  api,
  group,
  values,
}: {
  api: AdminApi;
  group: SettingGroup;
  values: Map<string, unknown>;
}) {
  // What the relay holds: the draft is compared with it, and it moves as each change is saved.
  const [saved, setSaved] = useState<Draft>(() =>
    Object.fromEntries(group.fields.map((f) => [f.key, draftOf(values.get(f.key), f)])),
  );
  const [draft, setDraft] = useState<Draft>(saved);
  const [progress, setProgress] = useState<string | null>(null);
  const [said, setSaid] = useState<string | null>(null);
  const [failed, setFailed] = useState<{ key: string; problem: ApiProblem } | null>(null);
  const [reauth, setReauth] = useState(false);

  async function save(event: SubmitEvent) {
    event.preventDefault();
    const changed = group.fields.filter((f) => draft[f.key] !== saved[f.key]);
    setSaid(null);
    setFailed(null);
    if (changed.length === 0) return setSaid('Nothing changed.');
    for (const [i, field] of changed.entries()) {
      setProgress(`Saving ${i + 1} of ${changed.length}: ${field.label}…`);
      const value = draft[field.key];
      try {
        await api.put(`/v1/org/settings/${field.key}`, { value: value === '' ? null : value });
        setSaved((before) => ({ ...before, [field.key]: value ?? '' }));
      } catch (error) {
        const problem = asProblem(error);
        setProgress(null);
        if (problem.code === 'REAUTH_REQUIRED') setReauth(true);
        setFailed({ key: field.key, problem });
        if (i > 0) setSaid(`Saved ${i} of ${changed.length}; the rest were not saved.`);
        return;
      }
    }
    setProgress(null);
    setSaid(`Saved ${changed.length === 1 ? (changed[0]?.label ?? '') : `${changed.length} settings`}.`);
  }

  return (
    <>
      <form class="settings-group" aria-label={group.title} onSubmit={save}>
        <h2>{group.title}</h2>
        <p class="hint">{group.intro}</p>
        {group.fields.map((field) => (
          <FieldInput
            key={field.key}
            field={field}
            value={draft[field.key] ?? ''}
            problem={failed?.key === field.key ? failed.problem : null}
            onChange={(v) => setDraft({ ...draft, [field.key]: v })}
          />
        ))}
        <button type="submit" disabled={progress !== null}>
          Save {group.title.toLowerCase()}
        </button>
        {progress !== null && <Busy label={progress} />}
        <Said text={said} />
        {failed !== null && <Problem problem={failed.problem} />}
      </form>
      {/* Its own form, beside the group's: a form inside a form would submit both. */}
      {reauth && (
        <Reauthenticate
          api={api}
          why="These settings change how everyone signs in, pays or keeps records."
          onDone={() => setReauth(false)}
        />
      )}
    </>
  );
}

function FieldInput({
  field,
  value,
  problem,
  onChange,
}: {
  field: SettingField;
  value: string | boolean;
  problem: ApiProblem | null;
  onChange: (value: string | boolean) => void;
}) {
  const id = `setting-${field.key.replace(/\./g, '-')}`;
  const common = {
    id,
    'aria-describedby': `${id}-help`,
    'aria-invalid': problem !== null,
  };
  const read = (e: Event) => (e.currentTarget as HTMLInputElement).value;
  let input = null;
  if (field.kind === 'boolean')
    input = (
      <input
        {...common}
        type="checkbox"
        checked={value === true}
        onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)}
      />
    );
  else if (field.kind === 'longtext')
    input = (
      <textarea
        {...common}
        rows={2}
        maxLength={480}
        value={String(value)}
        onInput={(e) => onChange(read(e))}
      />
    );
  else if (field.kind === 'notifications')
    input = (
      <select {...common} value={String(value)} onChange={(e) => onChange(read(e))}>
        <option value="">Unset: each rep chooses</option>
        <option value="off">Off</option>
        <option value="mine">Replies to their own threads</option>
        <option value="all">Every reply</option>
      </select>
    );
  else
    input = (
      <input
        {...common}
        inputMode={field.kind === 'number' ? 'numeric' : undefined}
        maxLength={field.kind === 'country' ? 2 : 480}
        value={String(value)}
        onInput={(e) => onChange(read(e))}
      />
    );
  return (
    <div class={field.kind === 'boolean' ? 'field check' : 'field'}>
      <label for={id}>{field.label}</label>
      {input}
      <p id={`${id}-help`} class="hint">
        {field.help}
      </p>
    </div>
  );
}
