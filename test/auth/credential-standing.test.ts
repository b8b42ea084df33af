import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, resolveApiKey } from '../../server/auth/api-keys.ts';
import {
  CREDENTIALS_CHANNEL,
  type CredentialNotice,
  parseCredentialNotice,
} from '../../server/auth/credential-watch.ts';
import { createSession, refreshSession, resolveAccessToken } from '../../server/auth/sessions.ts';
import { credentialStanding } from '../../server/auth/standing.ts';
import { deactivateUser } from '../../server/auth/users.ts';
import type { Database } from '../../server/db/database.ts';
import { createKeyForOrg, createOrg } from '../../server/organisations/org-admin.ts';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import { eventually } from '../helpers/relay.ts';

/**
 * What live streams rely on (#13, finding 2): every change to a credential's standing is
 * announced at commit, whoever makes it, and re-reading the credential by id judges it as
 * authentication would.
 */
postgresSkipNote('credential notices and standing');

const NOW = new Date('2030-03-04T17:00:00Z');
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

describe.each(ENGINES)('on %s', (engine) => {
  let db: Database;
  let drop: () => Promise<void>;
  let orgId: string;
  const notices: CredentialNotice[] = [];
  let unlisten: () => Promise<void>;

  async function user(role = 'rep'): Promise<string> {
    const id = randomUUID();
    await db.query('INSERT INTO users (id, org_id, email, role) VALUES ($1, $2, $3, $4)', [
      id,
      orgId,
      `${id}@example.com`,
      role,
    ]);
    return id;
  }

  beforeAll(async () => {
    const fresh = await freshDatabase(engine);
    db = fresh.db;
    drop = fresh.drop;
    orgId = (await createOrg(db, 'Standing Dental')).orgId;
    unlisten = await db.listen(CREDENTIALS_CHANNEL, (payload) => {
      const notice = parseCredentialNotice(payload);
      if (notice !== null) notices.push(notice);
    });
  });
  afterAll(async () => {
    await unlisten();
    await drop();
  });
  beforeEach(() => {
    notices.length = 0;
  });

  it('announces a deactivation for the user, each of its sessions and its keys', async () => {
    const userId = await user();
    const session = await createSession(db, { orgId, userId, stage: 'full', now: NOW });
    const key = await createApiKey(db, { orgId, role: 'rep', userId });
    await db.transaction((tx) => deactivateUser(tx, { orgId, userId, actor: 'test', now: NOW }));
    await eventually(async () => notices.length >= 3);
    expect(notices).toEqual(
      expect.arrayContaining([
        { org: orgId, user: userId },
        { org: orgId, session: session.sessionId },
        { org: orgId, key: key.id },
      ]),
    );
    expect(await credentialStanding(db, { kind: 'key', keyId: key.id }, NOW)).toEqual({
      valid: false,
      reason: 'user_deactivated',
    });
  });

  it('announces role changes and edits of a custom role, and nothing for bookkeeping writes', async () => {
    const userId = await user();
    const session = await createSession(db, { orgId, userId, stage: 'full', now: NOW });
    const { key } = await createKeyForOrg(db, { orgId, role: 'manager' });
    // Every request touches these; a notice for each would re-check every stream for nothing.
    await resolveAccessToken(db, session.accessToken, minutes(1));
    await resolveApiKey(db, key);
    await db.query(`INSERT INTO roles (id, org_id, name, permissions) VALUES ($1, $2, 'desk', $3)`, [
      randomUUID(),
      orgId,
      ['conversations.view'],
    ]);
    await db.query(`UPDATE users SET role = 'desk' WHERE id = $1`, [userId]);
    await db.query(`UPDATE roles SET permissions = ARRAY['pii.view'] WHERE org_id = $1 AND name = 'desk'`, [
      orgId,
    ]);
    await eventually(async () => notices.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(notices).toEqual([
      { org: orgId, user: userId },
      { org: orgId, role: 'desk' },
    ]);
  });

  it('judges a session by its revocation, its token expiry and its idle timeout', async () => {
    const userId = await user('manager');
    const session = await createSession(db, { orgId, userId, stage: 'full', now: NOW });
    const binding = { kind: 'session' as const, sessionId: session.sessionId, tokenExpiresAt: minutes(10) };
    expect(await credentialStanding(db, binding, minutes(1))).toMatchObject({
      valid: true,
      role: 'manager',
      endsAt: minutes(10),
    });
    expect(await credentialStanding(db, binding, minutes(10))).toEqual({ valid: false, reason: 'expired' });
    // An idle timeout shorter than the token's life ends the session first.
    await db.query(`UPDATE orgs SET settings = '{"auth":{"idleTimeoutMinutes":5}}' WHERE id = $1`, [orgId]);
    expect(await credentialStanding(db, binding, minutes(1))).toMatchObject({ endsAt: minutes(5) });
    expect(await credentialStanding(db, binding, minutes(6))).toEqual({ valid: false, reason: 'expired' });
    await db.query(`UPDATE orgs SET settings = '{}' WHERE id = $1`, [orgId]);

    // A replayed refresh token revokes the family.
    await db.transaction((tx) => refreshSession(tx, session.refreshToken, minutes(1)));
    // Refused, yet committed, as the refresh route does: the revocation must stick.
    const replay = await db.transaction((tx) =>
      refreshSession(tx, session.refreshToken, minutes(2)).then(
        () => 'accepted',
        () => 'refused',
      ),
    );
    expect(replay).toBe('refused');
    expect(await credentialStanding(db, binding, minutes(3))).toEqual({
      valid: false,
      reason: 'session_revoked',
    });
  });

  it('judges a key by its revocation and its custom role', async () => {
    const created = await createApiKey(db, { orgId, role: 'ghost' });
    const binding = { kind: 'key' as const, keyId: created.id };
    expect(await credentialStanding(db, binding, NOW)).toEqual({ valid: false, reason: 'role_changed' });
    await db.query('UPDATE api_keys SET role = $2 WHERE id = $1', [created.id, 'auditor']);
    expect(await credentialStanding(db, binding, NOW)).toMatchObject({ valid: true, endsAt: null });
    await db.query('UPDATE api_keys SET revoked_at = $2 WHERE id = $1', [created.id, NOW]);
    expect(await credentialStanding(db, binding, NOW)).toEqual({ valid: false, reason: 'key_revoked' });
  });
});

describe('credential notices', () => {
  it('parses what the triggers send and nothing else', () => {
    expect(parseCredentialNotice('{"org":"o","session":"s"}')).toEqual({ org: 'o', session: 's' });
    expect(parseCredentialNotice('{"org":"o","user":7}')).toEqual({ org: 'o' });
    expect(parseCredentialNotice('not json')).toBeNull();
    expect(parseCredentialNotice('{"user":"u"}')).toBeNull();
  });
});
