import { createCustomRole } from '../auth/custom-roles.ts';
import { isRole, ROLE_NAMES } from '../auth/permissions.ts';
import { createUser, deactivateUser, rolePermissions, validCustomPermissions } from '../auth/users.ts';
import { systemClock } from '../clock.ts';
import { ApiError } from '../errors.ts';
import { requireOrg } from '../organisations/org-admin.ts';
import { CLI_ACTOR, type Command, readFirstLine, UsageError } from './command.ts';

/** `user …` and `role …` commands: the people of an organisation and their custom roles. */
export const PEOPLE_COMMANDS: Record<string, Command> = {
  'user create': {
    summary: 'Create a user: with a password from stdin, or printing a one-time invite link',
    usage: 'user create --org <orgId> --email <address> --role <role> [--password-stdin] [--json]',
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      email: { help: "the user's email address", required: true, value: true },
      role: {
        help: `a built-in role (${ROLE_NAMES.join(', ')}) or a custom role of the org`,
        required: true,
        value: true,
      },
      'password-stdin': { help: 'read the password from the first line of stdin', value: false },
    },
    async run(db, flags, io) {
      const orgId = flags.org ?? '';
      const email = (flags.email ?? '').trim();
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254)
        throw new UsageError(`--email must be an email address, got "${email}"`);
      const role = flags.role ?? '';
      const password = flags['password-stdin'] === 'true' ? await readFirstLine(io.input) : null;
      const created = await db.transaction(async (tx) => {
        await requireOrg(tx, orgId);
        if ((await rolePermissions(tx, orgId, role)) === null)
          throw new ApiError(422, 'UNKNOWN_ROLE', `No role "${role}" in this organisation.`);
        return createUser(tx, {
          orgId,
          email,
          role,
          password,
          actor: CLI_ACTOR,
          now: systemClock(),
          publicUrl: io.config.publicUrl,
        });
      });
      const userId = created.user.id;
      if (password !== null) {
        return {
          json: { userId, email: created.user.email, role },
          text: `Created user ${created.user.email} (${role}), id ${userId}; they can sign in with the password given.`,
        };
      }
      const inviteLink = /https?:\/\/\S+/.exec(created.mail.text)?.[0] ?? null;
      return {
        json: { userId, email: created.user.email, role, inviteLink },
        text: `Created user ${created.user.email} (${role}), id ${userId}.\nSend them this one-time link to choose a password (expires in an hour):\n${inviteLink ?? ''}`,
      };
    },
  },
  'user deactivate': {
    summary: 'Deactivate a user: their sessions and bound API keys stop at once',
    usage: 'user deactivate --org <orgId> --email <address> [--json]',
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      email: { help: "the user's email address", required: true, value: true },
    },
    async run(db, flags) {
      const orgId = flags.org ?? '';
      const email = (flags.email ?? '').trim().toLowerCase();
      const user = await db.transaction(async (tx) => {
        await requireOrg(tx, orgId);
        const [found] = await tx.query<{ id: string }>(
          'SELECT id FROM users WHERE org_id = $1 AND email = $2',
          [orgId, email],
        );
        if (found === undefined)
          throw new ApiError(404, 'USER_NOT_FOUND', `No user ${email} in this organisation.`);
        return deactivateUser(tx, { orgId, userId: found.id, actor: CLI_ACTOR, now: systemClock() });
      });
      return { json: { userId: user.id, status: 'deactivated' }, text: `Deactivated ${user.email}` };
    },
  },
  'role create': {
    summary: 'Create a custom role from permissions',
    usage: 'role create --org <orgId> --name <name> --permissions <a,b,c> [--json]',
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      name: {
        help: 'lower case letters, digits and _ (2–40), not a built-in role',
        required: true,
        value: true,
      },
      permissions: {
        help: 'comma-separated permissions, e.g. conversations.view,messages.send',
        required: true,
        value: true,
      },
    },
    async run(db, flags) {
      const orgId = flags.org ?? '';
      const name = flags.name ?? '';
      if (!/^[a-z][a-z0-9_]{1,39}$/.test(name))
        throw new UsageError(`--name must be 2–40 lower case letters, digits or _, got "${name}"`);
      if (isRole(name)) throw new ApiError(409, 'ROLE_EXISTS', `"${name}" is a built-in role.`);
      const listed = (flags.permissions ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
      const permissions = validCustomPermissions([...new Set(listed)]);
      const { id } = await db.transaction(async (tx) => {
        await requireOrg(tx, orgId);
        return createCustomRole(tx, { orgId, name, permissions }, { actor: CLI_ACTOR, now: systemClock() });
      });
      return {
        json: { roleId: id, name, permissions },
        text: `Created role ${name}: ${permissions.join(', ') || '(no permissions)'}`,
      };
    },
  },
};
