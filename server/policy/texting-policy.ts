import { appendAudit } from '../audit/audit-log.ts';
import { type Queryable, withinTransaction } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { DEFAULT_TEXTING_POLICY } from './default-policy.ts';

/** An acknowledgement holds for a year; then the policy is read and acknowledged again. */
export const ACKNOWLEDGEMENT_VALID_MS = 365 * 86_400_000;
export const MAX_POLICY_LENGTH = 20_000;

/** A version of the org's texting policy. */
export interface TextingPolicy {
  version: number;
  body: string;
  /** When this version was published; null for the default not yet stored. */
  publishedAt: Date | null;
}

/** Where a person stands with the policy: whether their last acknowledgement still counts. */
export type PolicyStanding = 'current' | 'never' | 'changed' | 'yearly';

/** The org's current version and a person's last acknowledgement, as the sign-in query reads them. */
export interface PolicyFacts {
  version: number;
  acknowledgedVersion: number | null;
  acknowledgedAt: Date | null;
}

/** Judged from the facts the sign-in query carries (no query of its own). */
export function policyStanding(facts: PolicyFacts, now: Date): PolicyStanding {
  if (facts.acknowledgedVersion === null || facts.acknowledgedAt === null) return 'never';
  if (facts.acknowledgedVersion !== facts.version) return 'changed';
  if (now.getTime() - facts.acknowledgedAt.getTime() > ACKNOWLEDGEMENT_VALID_MS) return 'yearly';
  return 'current';
}

/** The org's current policy: its latest version, or the default while none is stored. */
export async function currentPolicy(db: Queryable, orgId: string): Promise<TextingPolicy> {
  const rows = await db.query<{ version: number; body: string; created_at: Date; created_by: string }>(
    `SELECT p.version, p.body, p.created_at, p.created_by FROM orgs o
       JOIN texting_policies p ON p.org_id = o.id AND p.version = o.policy_version
      WHERE o.id = $1`,
    [orgId],
  );
  const row = rows[0];
  if (row === undefined) return { version: 1, body: DEFAULT_TEXTING_POLICY, publishedAt: null };
  // The default, stored when first acknowledged, was never published by anyone.
  const publishedAt = row.created_by === 'system' ? null : new Date(row.created_at);
  return { version: row.version, body: row.body, publishedAt };
}

/** Stores the default as version 1 when the org has none yet, so acknowledgements can name it. */
async function storeDefault(tx: Queryable, orgId: string, at: Date): Promise<void> {
  // Locked until the transaction ends, so concurrent publishes and acknowledgements queue here.
  const [org] = await tx.query<{ policy_version: number | null }>(
    'SELECT policy_version FROM orgs WHERE id = $1 FOR UPDATE',
    [orgId],
  );
  if (org === undefined || org.policy_version !== null) return;
  await tx.query(
    `INSERT INTO texting_policies (org_id, version, body, created_at, created_by) VALUES ($1, 1, $2, $3, 'system')`,
    [orgId, DEFAULT_TEXTING_POLICY, at],
  );
  await tx.query('UPDATE orgs SET policy_version = 1 WHERE id = $1', [orgId]);
}

/** Publishes a new version; everyone acknowledges it again before their next text. Audited. */
export async function publishPolicy(
  db: Queryable,
  input: { orgId: string; body: string; actor: string; at: Date; ip?: string },
): Promise<TextingPolicy & { publishedAt: Date }> {
  const body = input.body.trim();
  if (body === '' || body.length > MAX_POLICY_LENGTH)
    throw new ApiError(400, 'INVALID_POLICY', `The policy must be 1 to ${MAX_POLICY_LENGTH} characters.`, {
      field: 'body',
    });
  return withinTransaction(db, async (tx) => {
    // storeDefault locks the org's row: publishing and acknowledging run one after the other.
    await storeDefault(tx, input.orgId, input.at);
    const current = await currentPolicy(tx, input.orgId);
    const previous = current.version;
    if (current.body === body)
      throw new ApiError(
        409,
        'POLICY_UNCHANGED',
        'The policy is already worded so: nobody needs to acknowledge it again.',
      );
    const version = previous + 1;
    await tx.query(
      'INSERT INTO texting_policies (org_id, version, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5)',
      [input.orgId, version, body, input.at, input.actor],
    );
    await tx.query('UPDATE orgs SET policy_version = $2 WHERE id = $1', [input.orgId, version]);
    await appendAudit(tx, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'policy.published',
      target: { type: 'texting_policy', id: String(version) },
      at: input.at,
      before: { version: previous },
      after: { version, length: body.length },
      ...(input.ip === undefined ? {} : { ip: input.ip }),
    });
    return { version, body, publishedAt: input.at };
  });
}

/**
 * Records that a person read and accepted the version they were shown. A version that is no longer
 * current is refused (POLICY_CHANGED): they must read the new words first. Audited.
 */
export async function acknowledgePolicy(
  db: Queryable,
  input: { orgId: string; userId: string; version: number; actor: string; at: Date; ip?: string },
): Promise<{ version: number; acknowledgedAt: Date }> {
  return withinTransaction(db, async (tx) => {
    await storeDefault(tx, input.orgId, input.at);
    const current = await currentPolicy(tx, input.orgId);
    if (current.version !== input.version)
      throw new ApiError(
        409,
        'POLICY_CHANGED',
        `The policy changed to version ${current.version} since you opened it: read it again, then acknowledge.`,
        { version: current.version },
      );
    await tx.query(
      // A double click (two acknowledgements at one instant) records one.
      `INSERT INTO policy_acknowledgements (org_id, user_id, version, acknowledged_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [input.orgId, input.userId, input.version, input.at],
    );
    await tx.query(
      'UPDATE users SET policy_acknowledged_version = $2, policy_acknowledged_at = $3 WHERE id = $1 AND org_id = $4',
      [input.userId, input.version, input.at, input.orgId],
    );
    await appendAudit(tx, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'policy.acknowledged',
      target: { type: 'texting_policy', id: String(input.version) },
      at: input.at,
      ...(input.ip === undefined ? {} : { ip: input.ip }),
    });
    return { version: input.version, acknowledgedAt: input.at };
  });
}

/** One active person and where they stand with the current policy. */
export interface AcknowledgementRow {
  userId: string;
  email: string;
  name: string | null;
  role: string;
  acknowledgedVersion: number | null;
  acknowledgedAt: Date | null;
  standing: PolicyStanding;
}

/** The current version, and every active person judged against it, those who must (re)acknowledge first. */
export async function acknowledgementList(
  db: Queryable,
  orgId: string,
  now: Date,
): Promise<{ version: number; people: AcknowledgementRow[] }> {
  const { version } = await currentPolicy(db, orgId);
  const rows = await db.query<{
    id: string;
    email: string;
    display_name: string | null;
    role: string;
    policy_acknowledged_version: number | null;
    policy_acknowledged_at: Date | null;
  }>(
    `SELECT id, email, display_name, role, policy_acknowledged_version, policy_acknowledged_at
       FROM users WHERE org_id = $1 AND status = 'active' ORDER BY email`,
    [orgId],
  );
  const list = rows.map((r) => {
    const acknowledgedAt = r.policy_acknowledged_at === null ? null : new Date(r.policy_acknowledged_at);
    return {
      userId: r.id,
      email: r.email,
      name: r.display_name,
      role: r.role,
      acknowledgedVersion: r.policy_acknowledged_version,
      acknowledgedAt,
      standing: policyStanding(
        { version, acknowledgedVersion: r.policy_acknowledged_version, acknowledgedAt },
        now,
      ),
    };
  });
  const people = [
    ...list.filter((r) => r.standing !== 'current'),
    ...list.filter((r) => r.standing === 'current'),
  ];
  return { version, people };
}
