import type { CrmHost } from './types.ts';

const HOSTNAMES = new Set(['127.0.0.1', 'localhost']);
const RECORD = /^\/sandbox\/crm\/contacts\/([A-Za-z0-9_-]{1,64})\/?$/;
const RECORD_LIKE = /^\/sandbox\/crm\/contacts\//;
const APP = /^\/sandbox\/crm(?:\/|$)/;

function isSandbox(url: URL): boolean {
  return url.protocol === 'http:' && HOSTNAMES.has(url.hostname);
}

/** The relay's demo CRM, served by `npm start` on any local port. */
export const sandbox: CrmHost = {
  id: 'sandbox',
  // Match patterns without a port match every port; limiting the path keeps us off other local dev servers.
  matches: ['http://127.0.0.1/sandbox/crm/*', 'http://localhost/sandbox/crm/*'],
  parse(url) {
    if (!isSandbox(url)) return null;
    const m = RECORD.exec(url.pathname);
    if (!m?.[1]) return null;
    return { crm: 'sandbox', objectType: 'contact', id: m[1] };
  },
  looksLikeRecord(url) {
    return isSandbox(url) && RECORD_LIKE.test(url.pathname);
  },
  owns(url) {
    return isSandbox(url) && APP.test(url.pathname);
  },
};
