import { hubspot } from './hubspot.ts';
import { salesforce } from './salesforce.ts';
import { sandbox } from './sandbox.ts';
import type { ContactRef, CrmHost } from './types.ts';

/** Every CRM host the content script runs on; adding a host is one file plus one line here. */
export const hosts: readonly CrmHost[] = [hubspot, salesforce, sandbox];

/** All content-script match patterns. */
export const hostMatches: readonly string[] = hosts.flatMap((h) => h.matches);

/** The CRM whose web app the URL belongs to, record page or not. */
export function hostOf(url: URL): CrmHost | undefined {
  return hosts.find((h) => h.owns(url));
}

/** What the content script should show for a page. */
export type PageDetection =
  | { kind: 'contact'; ref: ContactRef }
  | { kind: 'undetected'; host: CrmHost }
  | { kind: 'none' };

/** Classifies a URL: a readable record, a record-shaped page we could not read, or anything else. */
export function detectPage(url: URL): PageDetection {
  for (const host of hosts) {
    const ref = host.parse(url);
    if (ref) return { kind: 'contact', ref };
    if (host.looksLikeRecord(url)) return { kind: 'undetected', host };
  }
  return { kind: 'none' };
}
