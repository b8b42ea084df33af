import type { Queryable } from '../db/database.ts';
import { sha256 } from '../ids.ts';
import { parseAuthSettings } from './auth-settings.ts';
import { enrolledFactors } from './sign-in.ts';
import { getUser, type LinkKind, type UserRow } from './users.ts';

// What the joining pages (invite, reset, verify) need to know about a mailed link before using it.

/** Who a link is for, read without using it up: a page may show a form, then use it on submit. */
export async function linkHolder(
  db: Queryable,
  kind: LinkKind,
  token: string,
  now: Date,
): Promise<{ user: UserRow; orgName: string } | null> {
  const rows = await db.query<{ user_id: string }>(
    `SELECT user_id FROM auth_tokens WHERE token_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3`,
    [sha256(token), kind, now],
  );
  const userId = rows[0]?.user_id;
  const user = userId === undefined ? null : await getUser(db, userId);
  if (user === null || user.status !== 'active') return null;
  const [org] = await db.query<{ name: string }>('SELECT name FROM orgs WHERE id = $1', [user.org_id]);
  return { user, orgName: org?.name ?? '' };
}

/** Whether the user's org asks for a second factor they have not enrolled yet. */
export async function needsSecondFactor(db: Queryable, user: UserRow): Promise<boolean> {
  const [org] = await db.query<{ settings: unknown }>('SELECT settings FROM orgs WHERE id = $1', [
    user.org_id,
  ]);
  return (
    parseAuthSettings(org?.settings).requireSecondFactor && (await enrolledFactors(db, user)).length === 0
  );
}
