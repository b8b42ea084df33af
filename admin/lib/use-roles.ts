import type { Static } from 'typebox';
import type { RoleList } from '../../contract/users.ts';
import type { AdminApi } from './api.ts';
import { may, type Principal } from './console.ts';
import { useLoad } from './use-load.ts';

/** The built-in roles, offered when the admin may not list custom ones (roles.manage). */
const BUILT_IN = ['rep', 'manager', 'compliance_reviewer', 'auditor', 'admin', 'owner'];

/** The role names an admin may pick from: built-in and custom, or the built-in ones while reading or without roles.manage. */
export function useRoleNames(api: AdminApi, me: Principal): string[] {
  const [roles] = useLoad(
    async () =>
      may(me, 'roles.manage')
        ? (await api.get<Static<typeof RoleList>>('/v1/roles')).roles.map((r) => r.name)
        : BUILT_IN,
    'roles',
  );
  return roles.state === 'ready' ? roles.value : BUILT_IN;
}
