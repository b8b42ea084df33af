import type { ContactRef, CrmId, ObjectType } from '../hosts/types.ts';

const CRMS: readonly CrmId[] = ['hubspot', 'salesforce', 'sandbox'];
const OBJECT_TYPES: readonly ObjectType[] = ['contact', 'lead'];
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The panel's URL hash for a record. A hash (not a query) so the content script can switch contacts on
 * SPA navigation without reloading the panel and its live connection.
 */
export function encodeContactRef(ref: ContactRef | null): string {
  if (!ref) return '#none';
  const params = new URLSearchParams({ crm: ref.crm, objectType: ref.objectType, id: ref.id });
  if (ref.portalId) params.set('portalId', ref.portalId);
  return `#${params.toString()}`;
}

/** Reads a contact ref from the panel's hash; null when absent or malformed (the host page chose it). */
export function decodeContactRef(hash: string): ContactRef | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const crm = params.get('crm');
  const objectType = params.get('objectType');
  const id = params.get('id');
  const portalId = params.get('portalId');
  if (!crm || !objectType || !id) return null;
  if (!(CRMS as readonly string[]).includes(crm)) return null;
  if (!(OBJECT_TYPES as readonly string[]).includes(objectType)) return null;
  if (!ID.test(id) || (portalId !== null && !/^\d{1,20}$/.test(portalId))) return null;
  const ref: ContactRef = { crm: crm as CrmId, objectType: objectType as ObjectType, id };
  if (portalId) ref.portalId = portalId;
  return ref;
}

/** `crm/objectType/id`: how a contact is keyed in the local store and the panel. */
export function contactKeyOf(ref: Pick<ContactRef, 'crm' | 'objectType' | 'id'>): string {
  return `${ref.crm}/${ref.objectType}/${ref.id}`;
}
