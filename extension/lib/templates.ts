import type { ContactLookup, Me } from './relay-types.ts';

/** The merge fields a template may use; the relay refuses to store a template with any other. */
export const MERGE_FIELDS = ['firstName', 'lastName', 'name', 'repName', 'orgName'] as const;
export type MergeField = (typeof MERGE_FIELDS)[number];

const FIELD = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** The values of the merge fields for one contact and rep; empty when the CRM has no value. */
export function mergeValues(
  contact: Pick<ContactLookup['contact'], 'name'>,
  me: Pick<Me, 'displayName' | 'orgName'> | null,
): Record<MergeField, string> {
  const parts = contact.name.trim().split(/\s+/).filter(Boolean);
  return {
    firstName: parts[0] ?? '',
    lastName: parts.length > 1 ? (parts[parts.length - 1] ?? '') : '',
    name: contact.name.trim(),
    repName: me?.displayName?.trim() ?? '',
    orgName: me?.orgName?.trim() ?? '',
  };
}

/**
 * Fills a template's `{{field}}` placeholders. Fields without a value (or unknown ones) are left as
 * written and listed in `missing`, so the rep sees the gap in the draft instead of a silent blank.
 */
export function applyTemplate(
  body: string,
  values: Record<MergeField, string>,
): { text: string; missing: string[] } {
  const missing = new Set<string>();
  const text = body.replace(FIELD, (whole, name: string) => {
    const value = (values as Record<string, string | undefined>)[name];
    if (value === undefined || value === '') {
      missing.add(name);
      return whole;
    }
    return value;
  });
  return { text, missing: [...missing] };
}
