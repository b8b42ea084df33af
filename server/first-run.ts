import { connectCrm } from './crm-sync/connections.ts';
import type { SecretsKey } from './crypto/secrets.ts';
import type { Database } from './db/database.ts';
import { ApiError } from './errors.ts';
import { newId } from './ids.ts';
import {
  addSenderNumber,
  consumeSetupToken,
  createKeyForOrg,
  createOrg,
  orgCount,
} from './organisations/org-admin.ts';

/**
 * First-run setup's one write: consumes the one-time token and creates the first organisation,
 * its owner, an owner API key and, on a sandbox relay, its sandbox sender number and a connection
 * to the sandbox CRM (so a newcomer's texts, consent and payments show on its records without a CLI
 * step). All or nothing.
 */
export function createFirstOrg(
  db: Database,
  input: {
    token: string;
    orgName: string;
    adminEmail: string;
    passwordHash: string;
    now: Date;
    /** The sender number a sandbox relay starts with; null on a relay wired to a real provider. */
    sandboxSender: string | null;
    /** The key that seals the sandbox CRM connection; null when the relay has no sandbox CRM. */
    sandboxCrmKey: SecretsKey | null;
  },
): Promise<{ orgId: string; key: string; sender: { e164: string } | null; sandboxCrm: boolean }> {
  return db.transaction(async (tx) => {
    if (!(await consumeSetupToken(tx, input.token, input.now))) {
      throw new ApiError(403, 'SETUP_TOKEN_INVALID', 'This setup link is unknown, already used or expired.');
    }
    if ((await orgCount(tx)) > 0) {
      throw new ApiError(409, 'ALREADY_SET_UP', 'An organisation already exists; use the CLI to add more.');
    }
    const { orgId } = await createOrg(tx, input.orgName);
    const ownerId = newId();
    await tx.query(
      `INSERT INTO users (id, org_id, email, role, password_hash) VALUES ($1, $2, $3, 'owner', $4)`,
      [ownerId, orgId, input.adminEmail.toLowerCase(), input.passwordHash],
    );
    const { key } = await createKeyForOrg(tx, { orgId, role: 'owner', name: `${input.adminEmail} (setup)` });
    const sender =
      input.sandboxSender === null
        ? null
        : await addSenderNumber(tx, { orgId, e164: input.sandboxSender, label: 'Sandbox' });
    if (input.sandboxCrmKey !== null)
      await connectCrm(tx, input.sandboxCrmKey, {
        orgId,
        crm: 'sandbox',
        settings: {},
        secrets: { accessToken: 'sandbox' },
        by: { actor: `user:${ownerId}`, at: input.now },
      });
    return { orgId, key, sender, sandboxCrm: input.sandboxCrmKey !== null };
  });
}
