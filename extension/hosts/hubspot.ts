import type { CrmHost } from './types.ts';

const HOSTNAMES = new Set(['app.hubspot.com', 'app-eu1.hubspot.com']);
// 0-1 is HubSpot's object type id for contacts; /contact/ is the pre-2021 record URL still bookmarked by users.
const RECORD = /^\/contacts\/(\d+)\/(?:record\/0-1|contact)\/(\d+)\/?$/;
const RECORD_LIKE = /^\/contacts\/[^/]+\/(?:record\/0-1|contact)\//;

function isHubspot(url: URL): boolean {
  return url.protocol === 'https:' && HOSTNAMES.has(url.hostname);
}

/** HubSpot contact records on the US and EU data centres. */
export const hubspot: CrmHost = {
  id: 'hubspot',
  matches: ['https://app.hubspot.com/*', 'https://app-eu1.hubspot.com/*'],
  parse(url) {
    if (!isHubspot(url)) return null;
    const m = RECORD.exec(url.pathname);
    if (!m?.[1] || !m[2]) return null;
    return { crm: 'hubspot', objectType: 'contact', id: m[2], portalId: m[1] };
  },
  looksLikeRecord(url) {
    return isHubspot(url) && RECORD_LIKE.test(url.pathname);
  },
  owns: isHubspot,
};
