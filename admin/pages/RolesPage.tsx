import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { Role, RoleAnswer, RoleList } from '../../contract/users.ts';
import { Problem, Said, Shown } from '../components/Problem.tsx';
import { may, type PageProps } from '../lib/console.ts';
import { permissionLabel } from '../lib/permission-labels.ts';
import { useAction } from '../lib/use-action.ts';
import { useLoad } from '../lib/use-load.ts';

type RoleRow = Static<typeof Role>;

/** Roles (#17 item 2): what each built-in role may do, and custom roles made of the same permissions. */
export function RolesPage({ api, me }: PageProps) {
  const [roles, reload] = useLoad(() => api.get<Static<typeof RoleList>>('/v1/roles'), 'roles');
  const action = useAction();
  return (
    <section>
      <p class="hint">
        A custom role is a named set of permissions; assign it on the Users and roles page. You can grant only
        permissions you hold yourself.
      </p>
      <Said text={action.said} />
      {action.problem !== null && <Problem problem={action.problem} />}
      <Shown loaded={roles} busy="Reading the roles…" retry={reload}>
        {({ roles: list, permissions }) => (
          <>
            <NewRoleForm
              permissions={permissions}
              mayGrant={(p) => may(me, p)}
              busy={action.busy}
              onCreate={(name, granted) =>
                action.run(async () => {
                  const { role } = await api.post<Static<typeof RoleAnswer>>('/v1/roles', {
                    name,
                    permissions: granted,
                  });
                  return `Created the role ${role.name} with ${role.permissions.length} permissions.`;
                }, reload)
              }
            />
            <h2>Roles</h2>
            <ul class="cards">
              {list.map((role) => (
                <RoleCard key={role.name} role={role} />
              ))}
            </ul>
          </>
        )}
      </Shown>
    </section>
  );
}

function RoleCard({ role }: { role: RoleRow }) {
  return (
    <li class="card">
      <h3>
        {role.name} <span class="hint">{role.builtIn ? '(built in)' : '(custom)'}</span>
      </h3>
      <details>
        <summary>
          {role.permissions.length} permission{role.permissions.length === 1 ? '' : 's'}
        </summary>
        <ul>
          {role.permissions.map((p) => (
            <li key={p}>
              {permissionLabel(p)} <code>{p}</code>
            </li>
          ))}
        </ul>
      </details>
    </li>
  );
}

/** What every built-in role can do; without numbers.view a person cannot open the panel or this console. */
const EVERYONE = ['conversations.view', 'contacts.view', 'numbers.view', 'consent.view', 'account.self'];

function NewRoleForm({
  permissions,
  mayGrant,
  busy,
  onCreate,
}: {
  permissions: string[];
  mayGrant: (permission: string) => boolean;
  busy: boolean;
  onCreate: (name: string, permissions: string[]) => Promise<boolean>;
}) {
  const [granted, setGranted] = useState<string[]>(EVERYONE);
  return (
    <form
      aria-label="Create a custom role"
      onSubmit={async (event) => {
        event.preventDefault();
        const form = event.currentTarget as HTMLFormElement;
        const name = String(new FormData(form).get('name')).trim();
        if (await onCreate(name, granted)) {
          form.reset();
          setGranted(EVERYONE);
        }
      }}
    >
      <h2>Create a custom role</h2>
      <label>
        Name (lower case letters, digits and _, e.g. billing_rep)
        <input
          name="name"
          required
          minLength={2}
          maxLength={40}
          pattern="[a-z][a-z0-9_]+"
          autocomplete="off"
        />
      </label>
      <fieldset>
        <legend>Permissions</legend>
        <p class="hint">
          Ticked to start: what every built-in role may do. Without “See the sender numbers” a person cannot
          open the panel or this console.
        </p>
        {permissions.map((p) => (
          <label key={p} class="choice">
            <input
              type="checkbox"
              checked={granted.includes(p)}
              disabled={!mayGrant(p)}
              onChange={(e) =>
                setGranted((before) =>
                  (e.currentTarget as HTMLInputElement).checked
                    ? [...before, p]
                    : before.filter((x) => x !== p),
                )
              }
            />{' '}
            {permissionLabel(p)} <code>{p}</code>
            {!mayGrant(p) && <span class="hint"> (you do not hold it)</span>}
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={busy}>
        Create role
      </button>
    </form>
  );
}
