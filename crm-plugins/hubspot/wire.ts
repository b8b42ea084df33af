/**
 * HubSpot's records, searches, property definitions and batch results in plain types: what
 * client.ts hands the plugin, so mapping and capability code never see the SDK's models.
 */
/** A CRM object as the plugin sees it: id plus string properties. */
export interface HsRecord {
  id: string;
  properties: Record<string, string | null>;
  updatedAt: Date;
}

export type HsOperator =
  | 'EQ'
  | 'NEQ'
  | 'GT'
  | 'GTE'
  | 'LT'
  | 'LTE'
  | 'IN'
  | 'HAS_PROPERTY'
  | 'NOT_HAS_PROPERTY';

export interface HsFilter {
  propertyName: string;
  operator: HsOperator;
  value?: string;
  values?: string[];
}

export interface HsSearch {
  /** OR of groups, AND inside a group. */
  filterGroups: HsFilter[][];
  properties: string[];
  sorts?: { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' }[];
  limit: number;
  after?: string;
}

export interface HsPropertyDef {
  name: string;
  label: string;
  description: string;
  groupName: string;
  type: 'string' | 'datetime' | 'enumeration' | 'number';
  fieldType: 'text' | 'date' | 'select' | 'number';
  hidden?: boolean;
  options?: { label: string; value: string }[];
}

export interface HsBatchError {
  category: string;
  message: string;
  context: Record<string, string[]>;
}

export interface HsBatchResult {
  results: HsRecord[];
  errors: HsBatchError[];
}

export interface HubSpotClientConfig {
  /** A private-app access token (`pat-…`). */
  accessToken: string;
  /** API origin without a trailing slash; tests point it at the fake. */
  basePath?: string;
}

/** The HubSpot calls the plugin makes. */
export interface HubSpotApi {
  listGroups(objectType: string): Promise<string[]>;
  listProperties(objectType: string): Promise<string[]>;
  createGroup(objectType: string, name: string, label: string): Promise<'created' | 'exists'>;
  createProperty(objectType: string, def: HsPropertyDef): Promise<'created' | 'exists'>;
  archiveProperty(objectType: string, name: string): Promise<'removed' | 'absent'>;
  archiveGroup(objectType: string, name: string): Promise<'removed' | 'absent'>;
  getById(objectType: string, id: string, properties: string[]): Promise<HsRecord | null>;
  search(
    objectType: string,
    request: HsSearch,
  ): Promise<{ total: number; results: HsRecord[]; after: string | null }>;
  update(objectType: string, id: string, properties: Record<string, string>): Promise<HsRecord>;
  /** Creates one object, associated (HubSpot-defined types) with the given records. */
  create(
    objectType: string,
    properties: Record<string, string>,
    associateTo?: { id: string; typeId: number }[],
  ): Promise<HsRecord>;
  batchCreate(
    objectType: string,
    inputs: { properties: Record<string, string>; associateTo?: { id: string; typeId: number } }[],
  ): Promise<HsBatchResult>;
  batchUpdate(
    objectType: string,
    inputs: { id: string; properties: Record<string, string> }[],
  ): Promise<HsBatchResult>;
  /** Creates a task associated with one contact (task → contact, HubSpot-defined). */
  createTask(properties: Record<string, string>, contactId: string): Promise<HsRecord>;
  /** The id of the active owner (CRM user) with this email, or null if there is none. */
  findOwnerId(email: string): Promise<string | null>;
  /** The email of the owner with this id (a contact's hubspot_owner_id), or null if there is none. */
  ownerEmail(ownerId: string): Promise<string | null>;
  /** The burst quota from the latest X-HubSpot-RateLimit-* headers (search answers carry none). */
  rateLimit(): { remaining: number; max: number; intervalMs: number } | null;
}

/** Tokens from an OAuth authorization-code exchange. */
export interface HsOAuthTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  /** The portal (hub) the install granted access to: webhooks are routed by it. */
  portalId: string;
}
