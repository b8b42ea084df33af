import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { SenderNumber, SenderNumberType } from '../../contract/numbers.ts';
import type { User, UserList } from '../../contract/users.ts';
import type { AdminApi } from '../lib/api.ts';
import { may, type Principal } from '../lib/console.ts';
import { useAction } from '../lib/use-action.ts';
import { useLoad } from '../lib/use-load.ts';
import { Problem, Said } from './Problem.tsx';
import { Reauthenticate } from './Reauthenticate.tsx';

type Person = Static<typeof User>;
const TYPES: Record<SenderNumberType, string> = {
  long_code: 'Long code (local number)',
  toll_free: 'Toll-free',
  short_code: 'Short code',
};

/**
 * The org's sender numbers (#17 items 1 and 5): each with its label and the person who gets first
 * replies; adding one asks the SMS provider whether the account holds it, and for the password
 * again when the sign-in is not recent.
 */
export function SenderNumbers({
  api,
  me,
  numbers,
  reload,
  titled = true,
}: {
  api: AdminApi;
  me: Principal;
  numbers: SenderNumber[];
  reload: () => void;
  /** False where the page's own heading already says "Sender numbers" (the setup wizard). */
  titled?: boolean;
}) {
  const [people] = useLoad(
    async () =>
      may(me, 'users.manage')
        ? (await api.get<Static<typeof UserList>>('/v1/users')).users.filter((u) => u.status === 'active')
        : null,
    'people',
  );
  const action = useAction();
  const [reauth, setReauth] = useState(false);
  const active = people.state === 'ready' ? people.value : null;
  const nameOf = (id: string | null) => {
    if (id === null) return 'the unassigned queue';
    // Without the user list (no users.manage, or still reading) the person is not named.
    if (active === null) return 'the chosen person';
    return active.find((p) => p.id === id)?.email ?? 'someone no longer active';
  };

  const save = (id: string, change: { label?: string | null; defaultAssigneeUserId?: string | null }) =>
    action.run(async () => {
      const n = await api.patch<SenderNumber>(`/v1/numbers/${id}`, change);
      return `Saved ${n.e164}: ${n.label ?? 'no label'}, first replies to ${nameOf(n.defaultAssigneeUserId)}.`;
    }, reload);

  return (
    <section aria-label="Sender numbers">
      {titled && <h2>Sender numbers</h2>}
      <Said text={action.said} />
      {action.problem !== null && <Problem problem={action.problem} />}
      {reauth && (
        <Reauthenticate
          api={api}
          why="A number's replies and opt-outs go to the organisation that adds it."
          onDone={() => setReauth(false)}
        />
      )}
      {numbers.length === 0 ? (
        <p>No sender numbers yet: add the first below.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Number</th>
              <th scope="col">Type</th>
              <th scope="col">Label</th>
              <th scope="col">First replies go to</th>
            </tr>
          </thead>
          <tbody>
            {numbers.map((n) => (
              <NumberRow
                key={n.id}
                number={n}
                people={active}
                busy={action.busy}
                onSave={(c) => save(n.id, c)}
              />
            ))}
          </tbody>
        </table>
      )}
      <AddNumberForm
        people={active}
        busy={action.busy}
        onAdd={(body) =>
          action.run(async () => {
            try {
              const n = await api.post<SenderNumber>('/v1/numbers', body);
              setReauth(false);
              return `Added ${n.e164} (${TYPES[n.numberType]}): your SMS provider confirmed the account holds it.`;
            } catch (error) {
              if ((error as { code?: string }).code === 'REAUTH_REQUIRED') setReauth(true);
              throw error;
            }
          }, reload)
        }
      />
    </section>
  );
}

function AssigneeSelect({
  people,
  value,
  label,
  onChange,
}: {
  people: Person[] | null;
  value: string | null;
  label: string;
  onChange: (id: string | null) => void;
}) {
  if (people === null) return <span>{value === null ? 'Unassigned queue' : 'A person'}</span>;
  return (
    <select
      aria-label={label}
      value={value ?? ''}
      onChange={(e) => {
        const id = (e.currentTarget as HTMLSelectElement).value;
        onChange(id === '' ? null : id);
      }}
    >
      <option value="">Unassigned queue</option>
      {people.map((p) => (
        <option key={p.id} value={p.id}>
          {p.displayName ?? p.email} ({p.role})
        </option>
      ))}
    </select>
  );
}

function NumberRow({
  number,
  people,
  busy,
  onSave,
}: {
  number: SenderNumber;
  people: Person[] | null;
  busy: boolean;
  onSave: (change: { label?: string | null; defaultAssigneeUserId?: string | null }) => Promise<boolean>;
}) {
  const [label, setLabel] = useState(number.label ?? '');
  const [assignee, setAssignee] = useState(number.defaultAssigneeUserId);
  const changed = label.trim() !== (number.label ?? '') || assignee !== number.defaultAssigneeUserId;
  return (
    <tr>
      <th scope="row">{number.e164}</th>
      <td>{TYPES[number.numberType]}</td>
      <td>
        <input
          aria-label={`Label of ${number.e164}`}
          maxLength={100}
          value={label}
          onInput={(e) => setLabel((e.currentTarget as HTMLInputElement).value)}
        />
      </td>
      <td>
        <AssigneeSelect
          people={people}
          value={assignee}
          label={`First replies to ${number.e164} go to`}
          onChange={setAssignee}
        />
        {changed && (
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              void onSave({
                label: label.trim() === '' ? null : label.trim(),
                defaultAssigneeUserId: assignee,
              })
            }
          >
            Save {number.e164}
          </button>
        )}
      </td>
    </tr>
  );
}

function AddNumberForm({
  people,
  busy,
  onAdd,
}: {
  people: Person[] | null;
  busy: boolean;
  onAdd: (body: Record<string, string | null>) => Promise<boolean>;
}) {
  const [assignee, setAssignee] = useState<string | null>(null);
  return (
    <form
      class="inline-form"
      aria-label="Add a sender number"
      onSubmit={async (event) => {
        event.preventDefault();
        const form = event.currentTarget as HTMLFormElement;
        const data = new FormData(form);
        const type = String(data.get('type'));
        const label = String(data.get('label')).trim();
        const added = await onAdd({
          number: String(data.get('number')).trim(),
          ...(type === '' ? {} : { type }),
          ...(label === '' ? {} : { label }),
          ...(assignee === null ? {} : { defaultAssigneeUserId: assignee }),
        });
        if (added) {
          form.reset();
          setAssignee(null);
        }
      }}
    >
      <h3>Add a number</h3>
      <label>
        Number (rented or ported in at your SMS provider)
        <input name="number" required maxLength={32} placeholder="+1 202 555 0143" autocomplete="off" />
      </label>
      <label>
        Type
        <select name="type" defaultValue="">
          <option value="">As the SMS provider lists it</option>
          {Object.entries(TYPES).map(([value, text]) => (
            <option key={value} value={value}>
              {text}
            </option>
          ))}
        </select>
      </label>
      <label>
        Label shown to reps
        <input name="label" maxLength={100} placeholder="Front desk" />
      </label>
      {/* The select carries its own aria-label; a wrapping label would name it twice. */}
      <div class="field">
        <span aria-hidden="true">First replies go to</span>
        <AssigneeSelect people={people} value={assignee} label="First replies go to" onChange={setAssignee} />
      </div>
      <button type="submit" disabled={busy}>
        {busy ? 'Asking the SMS provider…' : 'Add number'}
      </button>
    </form>
  );
}
