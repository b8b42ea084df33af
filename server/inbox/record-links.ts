import type { Config } from '../config.ts';
import type { Queryable } from '../db/database.ts';

/**
 * Where an org's CRM records live in a browser, from its connections' non-secret settings: a
 * HubSpot portal, a Salesforce instance, and the relay's own sandbox CRM. The inbox links each row
 * to its record (the panel docks there) and, for a number no record was found for, to a place to
 * find or create one.
 */
export interface CrmPages {
  hubspotPortal: string | null;
  salesforceInstance: string | null;
  /** The sandbox CRM's origin on a sandbox relay; null elsewhere. */
  sandbox: string | null;
}

export async function crmPagesOf(db: Queryable, orgId: string, config: Config): Promise<CrmPages> {
  const rows = await db.query<{ crm: string; settings: { portalId?: unknown; instanceUrl?: unknown } }>(
    'SELECT crm, settings FROM crm_connections WHERE org_id = $1',
    [orgId],
  );
  const setting = (crm: string, name: 'portalId' | 'instanceUrl'): string | null => {
    const value = rows.find((r) => r.crm === crm)?.settings?.[name];
    return typeof value === 'string' && value !== '' ? value : null;
  };
  const portal = setting('hubspot', 'portalId');
  const instance = setting('salesforce', 'instanceUrl');
  return {
    hubspotPortal: portal !== null && /^\d{1,20}$/.test(portal) ? portal : null,
    salesforceInstance: instance === null ? null : httpsOrigin(instance),
    sandbox: config.crmProvider === 'sandbox' ? config.publicUrl.replace(/\/$/, '') : null,
  };
}

/** An http(s) origin, or null for anything else (a stored setting is never trusted as a URL). */
function httpsOrigin(raw: string): string | null {
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
  } catch {
    // not a URL: no link rather than a broken one
    return null;
  }
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The record's page in its CRM, or null when the org's settings do not say where that is. */
export function recordUrl(
  pages: CrmPages,
  ref: { crm: string | null; objectType: string | null; id: string | null },
): string | null {
  if (ref.id === null || !SAFE_ID.test(ref.id)) return null;
  if (ref.crm === 'hubspot' && pages.hubspotPortal !== null)
    return `https://app.hubspot.com/contacts/${pages.hubspotPortal}/record/0-1/${ref.id}`;
  if (ref.crm === 'salesforce' && pages.salesforceInstance !== null)
    return `${pages.salesforceInstance}/lightning/r/${ref.objectType === 'lead' ? 'Lead' : 'Contact'}/${ref.id}/view`;
  if (ref.crm === 'sandbox' && pages.sandbox !== null)
    return `${pages.sandbox}/sandbox/crm/contacts/${ref.id}`;
  return null;
}

/**
 * Where to find or create a contact for a number no record was found for: HubSpot's contact list
 * searched for it, Salesforce's new-contact form with it filled in, the sandbox CRM's list. A
 * number the caller sees masked is not put in the link.
 */
export function findUrl(pages: CrmPages, phone: string | null): { crm: string; url: string } | null {
  const e164 = phone !== null && /^\+\d{6,15}$/.test(phone) ? phone : null;
  if (pages.hubspotPortal !== null) {
    const list = `https://app.hubspot.com/contacts/${pages.hubspotPortal}/objects/0-1/views/all/list`;
    return { crm: 'hubspot', url: e164 === null ? list : `${list}?query=${encodeURIComponent(e164)}` };
  }
  if (pages.salesforceInstance !== null) {
    const form = `${pages.salesforceInstance}/lightning/o/Contact/new`;
    return {
      crm: 'salesforce',
      url: e164 === null ? form : `${form}?defaultFieldValues=MobilePhone=${encodeURIComponent(e164)}`,
    };
  }
  if (pages.sandbox !== null) return { crm: 'sandbox', url: `${pages.sandbox}/sandbox/crm` };
  return null;
}
