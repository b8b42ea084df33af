/**
 * The outbound check's view of the CRM: the record a send names, its phone and time zone, with
 * the API's answer to each way a lookup fails, and a one-minute cache for the live preflight.
 */
import { CrmError, CrmNotFoundError } from '../../crm-plugins/errors.ts';
import type { CrmRegistry } from '../../crm-plugins/registry.ts';
import type { ContactRef, CrmContact } from '../../crm-plugins/types.ts';
import type { OrgCrmSource } from '../crm-sync/org-crms.ts';
import { ApiError } from '../errors.ts';
import { checkE164 } from '../phone.ts';

/** How long a CRM lookup of the contact's time zone may hold up a send before the area code decides. */
const CRM_LOOKUP_TIMEOUT_MS = 300;

/**
 * A CRM record through the connected plugin, with the API's answer to each way that fails:
 * CRM_NOT_CONNECTED (409), CONTACT_NOT_FOUND (404), CRM_UNAVAILABLE (502).
 */
export async function findCrmContact(crm: CrmRegistry, ref: ContactRef): Promise<CrmContact> {
  const plugin = crm.get(ref.crm);
  if (plugin === null) {
    throw new ApiError(
      409,
      'CRM_NOT_CONNECTED',
      `${ref.crm} is not connected to this relay yet. An admin connects it with the CLI.`,
    );
  }
  let contact: CrmContact | null;
  try {
    contact = await plugin.findContactById(ref);
  } catch (error) {
    if (!(error instanceof CrmError)) throw error;
    if (!(error instanceof CrmNotFoundError)) {
      throw new ApiError(502, 'CRM_UNAVAILABLE', `${plugin.label} did not answer: ${error.message}`, {
        crmError: error.code,
        retryable: error.retryable,
      });
    }
    contact = null;
  }
  if (contact === null) {
    throw new ApiError(404, 'CONTACT_NOT_FOUND', `No ${ref.objectType} ${ref.id} in ${plugin.label}.`);
  }
  return contact;
}

/** The recipient of a send that names only a CRM record: its first phone, as the contact lookup shows it. */
export async function recipientFromCrm(
  crm: CrmRegistry,
  ref: ContactRef,
): Promise<{ to: string; timeZone: string | null }> {
  const contact = await findCrmContact(crm, ref);
  const phone = contact.phones[0];
  if (phone === undefined) {
    throw new ApiError(
      422,
      'CONTACT_HAS_NO_PHONE',
      `${ref.objectType} ${ref.id} has no phone number in the CRM; add one there, then send again.`,
    );
  }
  const check = checkE164(phone);
  if (!check.ok) {
    throw new ApiError(
      422,
      'INVALID_PHONE_NUMBER',
      `The contact's phone number in the CRM ${check.reason}.`,
      {
        field: 'contact',
      },
    );
  }
  return { to: check.e164, timeZone: contact.timeZone };
}

/**
 * What the CRM said about a record, reused for a minute: the composer's live preflight asks on every
 * pause in typing, and each ask would otherwise be a CRM API call against the org's rate limit.
 * Keyed by org and record (plugins are per org). A send re-reads the recipient; only preflight and
 * the advisory time zone use this.
 */
const CRM_CACHE_MS = 60_000;
const CRM_CACHE_MAX = 5_000;
/** A contact-only recipient as resolved, or just the record's time zone. */
type CrmFacts = { to: string; timeZone: string | null } | { zoneOnly: string | null };
const crmCache = new Map<string, { value: CrmFacts; at: number }>();

function cached(key: string): CrmFacts | undefined {
  const hit = crmCache.get(key);
  if (hit === undefined) return undefined;
  if (performance.now() - hit.at >= CRM_CACHE_MS) {
    crmCache.delete(key);
    return undefined;
  }
  return hit.value;
}

function remember(key: string, value: CrmFacts): void {
  if (crmCache.size >= CRM_CACHE_MAX) crmCache.delete(crmCache.keys().next().value as string);
  crmCache.set(key, { value, at: performance.now() });
}

const cacheKey = (orgId: string, ref: ContactRef) => `${orgId}|${ref.crm}|${ref.objectType}|${ref.id}`;

/** The recipient of a contact-only preflight, from the cache when the CRM was asked a moment ago. */
export async function cachedRecipient(
  crm: OrgCrmSource,
  orgId: string,
  ref: ContactRef,
): Promise<{ to: string; timeZone: string | null }> {
  const key = cacheKey(orgId, ref);
  const hit = cached(key);
  if (hit !== undefined && 'to' in hit) return hit;
  const fresh = await recipientFromCrm(await crm.forOrg(orgId), ref);
  remember(key, fresh);
  return fresh;
}

/** The CRM's time zone for the record (advisory: the area code decides without it). */
export async function crmTimeZone(
  crm: OrgCrmSource,
  orgId: string,
  ref: ContactRef | undefined,
): Promise<string | null> {
  if (ref === undefined) return null;
  const key = cacheKey(orgId, ref);
  const hit = cached(key);
  if (hit !== undefined) return 'to' in hit ? hit.timeZone : hit.zoneOnly;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), CRM_LOOKUP_TIMEOUT_MS);
  });
  try {
    // Finding the org's plugins can fail too (a damaged connection row): never fail a send for it.
    const lookup = crm
      .forOrg(orgId)
      .then((registry) => registry.get(ref.crm)?.findContactById(ref) ?? null)
      // best effort: the zone then comes from the area code, as for a contact without one.
      .catch(() => undefined);
    const contact = await Promise.race([lookup, timeout]);
    // Only an answer is remembered; a timeout or an error asks again next time.
    if (contact !== undefined) remember(key, { zoneOnly: contact?.timeZone ?? null });
    return contact?.timeZone ?? null;
  } finally {
    clearTimeout(timer);
  }
}
