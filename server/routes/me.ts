import { extensionSettings } from '../admin/org-settings-admin.ts';
import { principalOf, requires, seesPii } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';

export const meRoutes: RouteModule = (app, { db }) => {
  app.get('/v1/me', { config: requires('numbers.view') }, async (request) => {
    const p = principalOf(request);
    const rows = await db.query<{ settings: unknown; display_name: string | null; email: string | null }>(
      `SELECT o.settings, u.display_name, u.email
         FROM orgs o LEFT JOIN users u ON u.id = $2::uuid AND u.org_id = o.id
        WHERE o.id = $1`,
      [p.orgId, p.userId],
    );
    const row = rows[0];
    return {
      orgId: p.orgId,
      orgName: p.orgName,
      role: p.role,
      permissions: [...p.permissions],
      keyId: p.keyId,
      userId: p.userId,
      // The signed-in user's address (null for an API key without a user): clients key local data by it.
      email: row?.email ?? null,
      // The user's own name where they gave one (templates sign with it), else how senders are named.
      displayName: row?.display_name?.trim() || p.displayName,
      seesPii: seesPii(p),
      extension: extensionSettings(row?.settings),
    };
  });
};
