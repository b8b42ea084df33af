import type { CrmId, ContactRef as WireContactRef } from '../../contract/contact-ref.ts';

/** The CRMs the extension knows how to read a contact reference from, and their objects: the wire contract's. */
export type { CrmId, ObjectType } from '../../contract/contact-ref.ts';

/** Identifies one CRM record, as read from the host page's URL: the wire's reference plus the page's portal. */
export interface ContactRef extends WireContactRef {
  /** HubSpot portal (account) the record belongs to. */
  portalId?: string;
}

/** One CRM web app the content script runs on. */
export interface CrmHost {
  id: CrmId;
  /** Match patterns for the content script: the whole app, because record pages are reached by SPA navigation. */
  matches: readonly string[];
  /** The record this URL shows, or null when it is not a contact/lead record page. */
  parse(url: URL): ContactRef | null;
  /**
   * Whether the URL is shaped like a record page even though `parse` could not read it, so the panel
   * can say "contact not detected" instead of silently disappearing.
   */
  looksLikeRecord(url: URL): boolean;
  /** Whether the URL is any page of this CRM's web app (whose layout the docked panel remembers). */
  owns(url: URL): boolean;
  /**
   * Elements the app positions against the window (fixed headers, bars), which moving <html> aside
   * for the pinned panel does not move; they are narrowed with it. Selectors of the app's own design
   * system, not of generated class names.
   */
  viewportAnchored?: readonly string[];
}
