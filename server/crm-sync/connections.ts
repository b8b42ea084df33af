import { CRM_FACTORIES } from '../../crm-plugins/registry.ts';
import type { CrmId, CrmPlugin } from '../../crm-plugins/types.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { openJson, type SecretsKey, sealJson } from '../crypto/secrets.ts';
import { type Queryable, withinTransaction } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { newId } from '../ids.ts';
import { requireOrg } from '../organisations/org-admin.ts';

/** What is not secret about a connection; stored as plain JSON. */
export interface ConnectionSettings {
  /** HubSpot API origin override (tests, proxies). */
  baseUrl?: string;
  /** Salesforce instance, e.g. https://acme.my.salesforce.com. */
  instanceUrl?: string;
  /** Where Salesforce refresh tokens are exchanged; the instance URL when absent. */
  loginUrl?: string;
  apiVersion?: string;
  /** OAuth app (HubSpot public app / Salesforce connected app). */
  clientId?: string;
  /** HubSpot portal (hub) id: routes webhooks when several portals share one app. */
  portalId?: string;
}

/** The tokens; only ever stored sealed (AES-256-GCM). */
export interface ConnectionSecrets {
  accessToken: string;
  refreshToken?: string | null;
  clientSecret?: string | null;
}

export type ConnectionStatus = 'active' | 'auth_failed' | 'needs_attention' | 'disconnected';

export interface CrmConnection {
  id: string;
  orgId: string;
  crm: CrmId;
  settings: ConnectionSettings;
  sealedSecrets: string;
  status: ConnectionStatus;
  statusDetail: string | null;
  crmWatermark: string | null;
  backfillCheckpoint: BackfillCheckpoint | null;
  pausedUntil: Date;
  updatedAt: Date;
}

/** Where a backfill stands: messages up to (createdAt, id) have been queued. */
export interface BackfillCheckpoint {
  since: string | null;
  createdAt: string | null;
  id: string | null;
  queued: number;
  done: boolean;
}

export interface ConnectionRow {
  id: string;
  org_id: string;
  crm: CrmId;
  settings: ConnectionSettings;
  secrets: string;
  status: ConnectionStatus;
  status_detail: string | null;
  crm_watermark: string | null;
  backfill_checkpoint: BackfillCheckpoint | null;
  paused_until: Date;
  updated_at: Date;
}

export const CONNECTION_COLUMNS = `id, org_id, crm, settings, secrets, status, status_detail, crm_watermark,
  backfill_checkpoint, paused_until, updated_at`;

export function toConnection(row: ConnectionRow): CrmConnection {
  return {
    id: row.id,
    orgId: row.org_id,
    crm: row.crm,
    settings: row.settings,
    sealedSecrets: row.secrets,
    status: row.status,
    statusDetail: row.status_detail,
    crmWatermark: row.crm_watermark,
    backfillCheckpoint: row.backfill_checkpoint,
    pausedUntil: row.paused_until,
    updatedAt: row.updated_at,
  };
}

/** Binds a sealed blob to its row: it opens only for the same org and CRM. */
export const secretsContext = (orgId: string, crm: CrmId) => `crm_connection:${orgId}:${crm}`;

export function openSecrets(key: SecretsKey, connection: CrmConnection): ConnectionSecrets {
  const value = openJson(key, connection.sealedSecrets, secretsContext(connection.orgId, connection.crm));
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as ConnectionSecrets).accessToken !== 'string'
  )
    throw new Error(`connection ${connection.id}: sealed secrets are not a token set`);
  return value as ConnectionSecrets;
}

/**
 * Connects (or reconnects) an org's CRM. The sync cursors start at "now": history goes to the
 * CRM only through `crm backfill`.
 */
export async function connectCrm(
  db: Queryable,
  key: SecretsKey,
  input: {
    orgId: string;
    crm: CrmId;
    settings: ConnectionSettings;
    secrets: ConnectionSecrets;
    /** Who connected it, for the audit log, and when by the relay's clock. */
    by: { actor: string; at: Date };
  },
): Promise<CrmConnection> {
  // The connection and its audit entry commit together.
  return withinTransaction(db, (tx) => upsertConnection(tx, key, input));
}

async function upsertConnection(
  db: Queryable,
  key: SecretsKey,
  input: Parameters<typeof connectCrm>[2],
): Promise<CrmConnection> {
  await requireOrg(db, input.orgId);
  const sealed = sealJson(key, input.secrets, secretsContext(input.orgId, input.crm));
  const rows = await db.query<ConnectionRow>(
    `WITH now_pos AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1 AS tx)
     INSERT INTO crm_connections (id, org_id, crm, settings, secrets, event_cursor_tx, event_cursor_id,
                                  consent_cursor_tx, consent_cursor_id)
     SELECT $1, $2, $3, $4, $5, tx, 9007199254740991, tx, 9007199254740991 FROM now_pos
     ON CONFLICT (org_id, crm) DO UPDATE
       SET settings = EXCLUDED.settings, secrets = EXCLUDED.secrets, status = 'active', status_detail = NULL,
           paused_until = now(), updated_at = now()
     RETURNING ${CONNECTION_COLUMNS}`,
    [newId(), input.orgId, input.crm, JSON.stringify(input.settings), sealed],
  );
  const row = rows[0];
  if (row === undefined) throw new Error('connection upsert returned nothing');
  const connection = toConnection(row);
  await appendAudit(db, {
    orgId: input.orgId,
    actor: input.by.actor,
    action: 'crm.connected',
    target: { type: 'crm_connection', id: connection.id },
    at: input.by.at,
    detail: { crm: input.crm },
  });
  return connection;
}

export async function getConnection(db: Queryable, orgId: string, crm: CrmId | null): Promise<CrmConnection> {
  const rows = await db.query<ConnectionRow>(
    `SELECT ${CONNECTION_COLUMNS} FROM crm_connections
      WHERE org_id = $1 AND ($2::text IS NULL OR crm = $2) AND status <> 'disconnected' ORDER BY created_at`,
    [orgId, crm],
  );
  if (rows.length === 0)
    throw new ApiError(404, 'CRM_NOT_CONNECTED', `No ${crm ?? 'CRM'} is connected to organisation ${orgId}.`);
  if (rows.length > 1)
    throw new ApiError(400, 'CRM_AMBIGUOUS', `Organisation ${orgId} has several CRMs connected; name one.`);
  return toConnection(rows[0] as ConnectionRow);
}

export async function saveSecrets(
  db: Queryable,
  key: SecretsKey,
  connection: CrmConnection,
  secrets: ConnectionSecrets,
): Promise<CrmConnection> {
  const sealed = sealJson(key, secrets, secretsContext(connection.orgId, connection.crm));
  const rows = await db.query<ConnectionRow>(
    `UPDATE crm_connections SET secrets = $2, status = 'active', status_detail = NULL, updated_at = now()
      WHERE id = $1 RETURNING ${CONNECTION_COLUMNS}`,
    [connection.id, sealed],
  );
  return rows[0] === undefined ? connection : toConnection(rows[0]);
}

export async function setStatus(
  db: Queryable,
  connectionId: string,
  status: ConnectionStatus,
  detail: string | null,
): Promise<void> {
  await db.query(
    `UPDATE crm_connections SET status = $2, status_detail = $3, updated_at = now() WHERE id = $1`,
    [connectionId, status, detail],
  );
}

/** Builds the plugin of a connection from its (opened) tokens. Synchronous: no I/O happens here. */
export function createPlugin(connection: CrmConnection, secrets: ConnectionSecrets): CrmPlugin {
  switch (connection.crm) {
    case 'hubspot':
      return CRM_FACTORIES.hubspot({
        accessToken: secrets.accessToken,
        ...(connection.settings.baseUrl === undefined ? {} : { basePath: connection.settings.baseUrl }),
      });
    case 'salesforce': {
      const instanceUrl = connection.settings.instanceUrl;
      if (instanceUrl === undefined)
        throw new Error(`connection ${connection.id} has no Salesforce instance URL`);
      return CRM_FACTORIES.salesforce({
        accessToken: secrets.accessToken,
        instanceUrl,
        ...(connection.settings.apiVersion === undefined
          ? {}
          : { apiVersion: connection.settings.apiVersion }),
      });
    }
    case 'sandbox':
      return CRM_FACTORIES.sandbox({});
  }
}
