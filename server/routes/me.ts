import { Me } from '../../contract/auth.ts';
import { errorResponses } from '../../contract/errors.ts';
import { profileOf } from '../auth/users.ts';
import { principalOf, requires, seesPii } from '../http/access.ts';
import type { RouteModule } from '../http/services.ts';
import { extensionSettings } from '../organisations/org-settings-admin.ts';

export const meRoutes: RouteModule = (app, { db }) => {
  app.get(
    '/v1/me',
    {
      config: requires('numbers.view'),
      schema: {
        summary: 'Who you are',
        description:
          'The principal behind this token or key, its permissions and the extension settings of its org.',
        tags: ['users'],
        response: { 200: Me, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const row = await profileOf(db, p.orgId, p.userId);
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
    },
  );
};
