/** The CRMs the relay knows; each has one plugin in registry.ts. */
export const CRM_IDS = ['hubspot', 'salesforce', 'sandbox'] as const;
export type CrmId = (typeof CRM_IDS)[number];

/** A contact (or lead) record as the CRM identifies it. */
export interface ContactRef {
  crm: CrmId;
  objectType: 'contact' | 'lead';
  id: string;
}

/** A CRM contact reduced to what texting needs; vendor types never leave a plugin. */
export interface CrmContact {
  ref: ContactRef;
  name: string;
  /** E.164 numbers, mobile first. */
  phones: string[];
  timeZone: string | null;
  ownerEmail: string | null;
}

export interface CrmHealth {
  ok: boolean;
  detail: string;
}

/**
 * What the relay needs from a CRM. The CRM-plugins issue (#6) adds install, consent projection,
 * message logging and CRM-side consent changes to this interface.
 */
export interface CrmPlugin {
  readonly id: CrmId;
  readonly label: string;
  findContactById(ref: ContactRef): Promise<CrmContact | null>;
  findContactsByPhone(phoneE164: string): Promise<CrmContact[]>;
  healthCheck(): Promise<CrmHealth>;
}
