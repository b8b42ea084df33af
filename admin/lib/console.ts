import type { Static } from 'typebox';
import type { Me } from '../../contract/auth.ts';
import type { AdminApi } from './api.ts';

export type Principal = Static<typeof Me>;

/** What every page is given: the relay and who is signed in. */
export interface PageProps {
  api: AdminApi;
  me: Principal;
}

/** Whether the signed-in admin holds a permission (the relay checks again; this only hides what it would refuse). */
export function may(me: Principal, permission: string): boolean {
  return me.permissions.includes(permission);
}
