import type { Queryable } from '../db/database.ts';
import { randomToken, sha256 } from '../ids.ts';

/** How long the holder of an unlinked account has to prove their old credential. */
export const SSO_LINK_TTL_MS = 10 * 60_000;

/** A pending offer to link an account to the IdP subject of the assertion that named it. */
export interface SsoLinkRequest {
  orgId: string;
  userId: string;
  idpEntityId: string;
  nameId: string;
}

/**
 * Remembers that an assertion of this IdP for this NameID named an account it may not sign into
 * yet; the returned token (only its hash is stored) lets the account's holder link it.
 */
export async function issueSsoLinkRequest(
  tx: Queryable,
  request: SsoLinkRequest,
  now: Date,
): Promise<string> {
  const token = randomToken(32);
  await tx.query('DELETE FROM sso_link_requests WHERE expires_at <= $1', [now]);
  await tx.query(
    `INSERT INTO sso_link_requests (token_hash, org_id, user_id, idp_entity_id, name_id, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      sha256(token),
      request.orgId,
      request.userId,
      request.idpEntityId,
      request.nameId,
      now,
      new Date(now.getTime() + SSO_LINK_TTL_MS),
    ],
  );
  return token;
}

/** The pending request a token stands for, or null if unknown, used or expired. */
export async function pendingSsoLinkRequest(
  db: Queryable,
  token: string,
  now: Date,
): Promise<SsoLinkRequest | null> {
  const [row] = await db.query<{ org_id: string; user_id: string; idp_entity_id: string; name_id: string }>(
    `SELECT org_id, user_id, idp_entity_id, name_id FROM sso_link_requests
      WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
    [sha256(token), now],
  );
  return row === undefined
    ? null
    : { orgId: row.org_id, userId: row.user_id, idpEntityId: row.idp_entity_id, nameId: row.name_id };
}

/** Uses a token once; false when it was used or expired meanwhile. Call inside a transaction. */
export async function consumeSsoLinkRequest(tx: Queryable, token: string, now: Date): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE sso_link_requests SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
     RETURNING token_hash`,
    [sha256(token), now],
  );
  return rows.length > 0;
}
