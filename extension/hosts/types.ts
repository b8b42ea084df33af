/** The CRMs the extension knows how to read a contact reference from. */
export type CrmId = 'hubspot' | 'salesforce' | 'sandbox';

/** The CRM object a record page shows; HubSpot and the sandbox only have contacts. */
export type ObjectType = 'contact' | 'lead';

/** Identifies one CRM record, as read from the host page's URL. */
export interface ContactRef {
  crm: CrmId;
  objectType: ObjectType;
  id: string;
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
}
