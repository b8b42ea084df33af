import { Type } from 'typebox';
import { ApiError } from '../errors.ts';
import { phoneFor, principalOf, requires } from '../http/access.ts';
import type { RouteModule } from '../http/types.ts';
import { currentConsent } from '../messaging/consent-store.ts';
import { CrmIdSchema, CrmRecordId, ObjectType } from './schemas.ts';

export const contactsRoutes: RouteModule = (app, { db, crm }) => {
  app.get(
    '/v1/contacts/lookup',
    {
      config: requires('contacts.view'),
      schema: {
        querystring: Type.Object(
          { crm: CrmIdSchema, objectType: ObjectType, id: CrmRecordId },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { orgId } = principal;
      const { crm: crmId, objectType, id } = request.query;
      const plugin = crm.get(crmId);
      if (plugin === null) {
        throw new ApiError(
          409,
          'CRM_NOT_CONNECTED',
          `${crmId} is not connected to this relay yet. An admin connects it with the CLI.`,
        );
      }
      const contact = await plugin.findContactById({ crm: crmId, objectType, id });
      if (contact === null)
        throw new ApiError(404, 'CONTACT_NOT_FOUND', `No ${objectType} ${id} in ${plugin.label}.`);
      const phone = contact.phones[0] ?? null;
      const consent = phone === null ? null : await currentConsent(db, orgId, phone);
      return {
        contact: {
          crm: contact.ref.crm,
          objectType: contact.ref.objectType,
          id: contact.ref.id,
          name: contact.name,
          phone: phoneFor(principal, phone),
          timeZone: contact.timeZone,
        },
        consent: {
          status: consent?.status ?? 'unknown',
          updatedAt: consent?.since?.toISOString() ?? null,
          source: consent?.source ?? null,
        },
      };
    },
  );
};
