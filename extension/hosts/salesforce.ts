import type { CrmHost } from './types.ts';

// Production (acme.lightning.force.com), sandboxes (acme--dev.sandbox.lightning.force.com) and
// developer editions (acme-dev-ed.develop.lightning.force.com) all end in this suffix.
const SUFFIX = '.lightning.force.com';
// Salesforce record ids are 15 (case-sensitive) or 18 (case-safe) alphanumeric characters.
const RECORD = /^\/lightning\/r\/(Contact|Lead)\/([A-Za-z0-9]{15}|[A-Za-z0-9]{18})\/view\/?$/;
const RECORD_LIKE = /^\/lightning\/r\/(?:Contact|Lead)\//;

function isLightning(url: URL): boolean {
  return url.protocol === 'https:' && url.hostname.endsWith(SUFFIX);
}

/** Salesforce Lightning Experience contact and lead record pages. */
export const salesforce: CrmHost = {
  id: 'salesforce',
  matches: ['https://*.lightning.force.com/*'],
  parse(url) {
    if (!isLightning(url)) return null;
    const m = RECORD.exec(url.pathname);
    if (!m?.[1] || !m[2]) return null;
    return { crm: 'salesforce', objectType: m[1] === 'Lead' ? 'lead' : 'contact', id: m[2] };
  },
  looksLikeRecord(url) {
    return isLightning(url) && RECORD_LIKE.test(url.pathname);
  },
  owns: isLightning,
  // Lightning's global header (SLDS) is position: fixed across the full width of the window.
  viewportAnchored: ['.slds-global-header_container'],
};
