import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import type { InvitedUser, User, UserList } from '../../contract/users.ts';
import { Problem, Said, Shown } from '../components/Problem.tsx';
import type { ApiProblem } from '../lib/api.ts';
import type { PageProps } from '../lib/console.ts';
import { asProblem, useLoad } from '../lib/use-load.ts';
import { useRoleNames } from '../lib/use-roles.ts';

type UserRow = Static<typeof User>;

/** Users and roles (#17 item 2): invite, change a role, deactivate at once. */
export function UsersPage({ api, me }: PageProps) {
  const [users, reload] = useLoad(() => api.get<Static<typeof UserList>>('/v1/users'), 'users');
  const roleNames = useRoleNames(api, me);
  const [said, setSaid] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  /** Runs one change, then says what happened and re-reads the list. */
  async function change(run: () => Promise<string>) {
    setProblem(null);
    setSaid(null);
    try {
      setSaid(await run());
      reload();
    } catch (error) {
      setProblem(asProblem(error));
    }
  }

  return (
    <section>
      <InviteForm
        roles={roleNames}
        onInvite={(email, role, displayName) =>
          change(async () => {
            const answer = await api.post<Static<typeof InvitedUser>>('/v1/users', {
              email,
              role,
              ...(displayName === '' ? {} : { displayName }),
            });
            return answer.invitationMailed
              ? `Invited ${email}: the invitation to choose a password is on its way.`
              : `Invited ${email}, but the invitation could not be mailed: ask them to use “Forgot password” on the sign-in page.`;
          })
        }
      />
      <Said text={said} />
      {problem !== null && <Problem problem={problem} />}
      <h2>People</h2>
      <Shown loaded={users} busy="Reading the users…" retry={reload}>
        {({ users: list }) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Second factor</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((user) => (
                <UserRowView
                  key={user.id}
                  user={user}
                  self={user.id === me.userId}
                  roles={roleNames}
                  onRole={(role) =>
                    change(async () => {
                      await api.put(`/v1/users/${user.id}/role`, { role });
                      return `${user.email} is now ${role}.`;
                    })
                  }
                  onDeactivate={() =>
                    change(async () => {
                      await api.post(`/v1/users/${user.id}/deactivate`, {});
                      return `${user.email} is deactivated: their sessions and API keys stopped working.`;
                    })
                  }
                />
              ))}
            </tbody>
          </table>
        )}
      </Shown>
    </section>
  );
}

function InviteForm({
  roles,
  onInvite,
}: {
  roles: string[];
  onInvite: (email: string, role: string, displayName: string) => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="inline-form"
      aria-label="Invite a user"
      onSubmit={async (event) => {
        event.preventDefault();
        const form = event.currentTarget as HTMLFormElement;
        const data = new FormData(form);
        setBusy(true);
        await onInvite(String(data.get('email')), String(data.get('role')), String(data.get('name')).trim());
        setBusy(false);
      }}
    >
      <h2>Invite a user</h2>
      <label>
        Email
        <input name="email" type="email" required />
      </label>
      <label>
        Name (optional)
        <input name="name" maxLength={200} />
      </label>
      <label>
        Role
        <select name="role" defaultValue="rep">
          {roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={busy}>
        {busy ? 'Inviting…' : 'Invite'}
      </button>
    </form>
  );
}

function UserRowView({
  user,
  self,
  roles,
  onRole,
  onDeactivate,
}: {
  user: UserRow;
  self: boolean;
  roles: string[];
  onRole: (role: string) => Promise<void>;
  onDeactivate: () => Promise<void>;
}) {
  const [confirming, setConfirming] = useState(false);
  const [role, setRole] = useState(user.role);
  const active = user.status === 'active';
  const label = user.displayName ?? user.email;
  return (
    <tr>
      <td>{user.displayName ?? '—'}</td>
      <td>{user.email}</td>
      <td>
        <label class="visually-hidden" for={`role-${user.id}`}>
          Role of {label}
        </label>
        <select
          id={`role-${user.id}`}
          value={role}
          disabled={!active || self}
          onChange={(e) => setRole((e.currentTarget as HTMLSelectElement).value)}
        >
          {[...new Set([user.role, ...roles])].map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        {role !== user.role && (
          <button type="button" onClick={() => void onRole(role)}>
            Save role
          </button>
        )}
      </td>
      <td>{active ? 'Active' : 'Deactivated'}</td>
      <td>{user.secondFactor ? 'Authenticator app' : 'None'}</td>
      <td>
        {active && !self && !confirming && (
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            Deactivate {label}
          </button>
        )}
        {confirming && (
          <fieldset>
            <legend>Deactivate {label}?</legend>
            <p>Their sessions and API keys stop at once; their conversations return to the queue.</p>
            <button
              type="button"
              class="danger"
              onClick={async () => {
                await onDeactivate();
                setConfirming(false);
              }}
            >
              Yes, deactivate
            </button>
            <button type="button" class="secondary" onClick={() => setConfirming(false)}>
              Keep {label}
            </button>
          </fieldset>
        )}
        {self && <span class="hint">You</span>}
      </td>
    </tr>
  );
}
