import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../server/auth/api-keys.ts';
import { ACCESS_TTL_MS, createSession } from '../../server/auth/sessions.ts';
import { maskPhone } from '../../server/phone.ts';
import { freshPglite } from '../helpers/db.ts';
import {
  CUSTOMER,
  daytimeClock,
  eventually,
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';
import { openTextStream } from '../helpers/sse-text.ts';

/**
 * Issue #13, finding 2: a live event stream is bound to the credential that opened it. When the
 * user is deactivated, the session signed out or expired, the key revoked or the role changed,
 * the stream says why and closes, or filters by the caller's permissions as they are now.
 */

const CUSTOMER_2 = '+12025550144';
const CUSTOMER_3 = '+12025550145';
// The relay's clock: daytime, and movable forward so a token can expire without waiting.
const daytime = daytimeClock();
let shiftMs = 0;
const clock = () => new Date(daytime().getTime() + shiftMs);

const db = await freshPglite();
let relay: TestRelay;
let org: TestOrg;
let baseUrl: string;

beforeAll(async () => {
  relay = await testRelay(db, { clock });
  org = await seedOrg(db);
  for (const phone of [CUSTOMER, CUSTOMER_2, CUSTOMER_3]) await optIn(relay.app, org, phone);
  baseUrl = await relay.app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await relay.close();
  await db.close();
});

async function userWithSession(role: string) {
  const userId = randomUUID();
  await db.query('INSERT INTO users (id, org_id, email, role) VALUES ($1, $2, $3, $4)', [
    userId,
    org.orgId,
    `${userId}@example.com`,
    role,
  ]);
  const session = await createSession(db, { orgId: org.orgId, userId, stage: 'full', now: clock() });
  return {
    userId,
    refreshToken: session.refreshToken,
    auth: { authorization: `Bearer ${session.accessToken}` },
  };
}

async function send(auth: Record<string, string>, to: string, body: string) {
  const response = await relay.app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: { ...auth, 'idempotency-key': idemKey() },
    payload: { from: org.sender, to, body },
  });
  expect(response.statusCode, response.body).toBe(202);
}

async function textFromPhone(text: string, handset = CUSTOMER): Promise<void> {
  const { status } = await relay.sandbox.textFromHandset({ handset, service: org.sender, text });
  expect(status).toBe(200);
}

/** An open SSE connection: everything it received so far, and whether the relay ended it. */
const openStream = (auth: Record<string, string>) => openTextStream(`${baseUrl}/v1/events`, auth);

/**
 * Texts the org after a credential change and expects the stream to end with `reason` first:
 * the text must never reach it.
 */
async function expectEndedBefore(stream: { text: string; ended: boolean }, reason: string, after: string) {
  await textFromPhone(after);
  await eventually(async () => stream.ended);
  expect(revokedReason(stream.text)).toBe(reason);
  expect(stream.text).not.toContain(after);
}

/** The reason of the stream's `revoked` event, or null if it has none. */
function revokedReason(text: string): string | null {
  const match = /event: revoked\ndata: (.*)\n/.exec(text);
  return match === null ? null : (JSON.parse(match[1] as string) as { reason: string }).reason;
}

/** A request by the org's owner key. */
const post = (url: string, payload?: Record<string, unknown>) =>
  relay.app.inject({ method: 'POST', url, headers: org.auth, payload });

describe('a live event stream outlives no credential', () => {
  it('stops streaming inbound texts to a deactivated rep and tells them why', async () => {
    const rep = await userWithSession('rep');
    await send(rep.auth, CUSTOMER, 'Hello from the rep');
    const { stream, close } = await openStream(rep.auth);
    try {
      await textFromPhone('Before the deactivation');
      await eventually(async () => stream.text.includes('Before the deactivation'));

      const deactivated = await post(`/v1/users/${rep.userId}/deactivate`);
      expect(deactivated.statusCode, deactivated.body).toBe(200);
      await expectEndedBefore(stream, 'user_deactivated', 'After the deactivation');
    } finally {
      await close();
    }
  });

  it('closes the stream of a session that signs out', async () => {
    const manager = await userWithSession('manager');
    const { stream, close } = await openStream(manager.auth);
    try {
      const out = await relay.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: manager.auth });
      expect(out.statusCode, out.body).toBe(204);
      await expectEndedBefore(stream, 'signed_out', 'After the sign-out');
    } finally {
      await close();
    }
  });

  it('closes the stream when a replayed refresh token revokes its session family', async () => {
    const manager = await userWithSession('manager');
    const refresh = (refreshToken: string) =>
      relay.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } });
    const { stream, close } = await openStream(manager.auth);
    try {
      // A rotation keeps the session, and with it the stream, going.
      expect((await refresh(manager.refreshToken)).statusCode).toBe(200);
      await textFromPhone('After the rotation');
      await eventually(async () => stream.text.includes('After the rotation'));

      // The old refresh token again: stolen, so the whole family is revoked.
      expect((await refresh(manager.refreshToken)).statusCode).toBe(401);
      await expectEndedBefore(stream, 'session_revoked', 'After the replay');
    } finally {
      await close();
    }
  });

  it('closes the stream of an API key that is revoked', async () => {
    const created = await createApiKey(db, { orgId: org.orgId, role: 'manager', name: 'integration' });
    const { stream, close } = await openStream({ authorization: `Bearer ${created.key}` });
    try {
      // Straight in the database, as an operator would: the triggers announce any writer's change.
      await db.query('UPDATE api_keys SET revoked_at = $2 WHERE id = $1', [created.id, clock()]);
      await expectEndedBefore(stream, 'key_revoked', 'After the key was revoked');
    } finally {
      await close();
    }
  });

  it('closes the stream of a user whose new role may not see conversations', async () => {
    const manager = await userWithSession('manager');
    const role = await post('/v1/roles', { name: 'sender_only', permissions: ['messages.send'] });
    expect(role.statusCode, role.body).toBe(201);
    const { stream, close } = await openStream(manager.auth);
    try {
      const changed = await relay.app.inject({
        method: 'PUT',
        url: `/v1/users/${manager.userId}/role`,
        headers: org.auth,
        payload: { role: 'sender_only' },
      });
      expect(changed.statusCode, changed.body).toBe(200);
      await expectEndedBefore(stream, 'role_changed', 'After the downgrade');
    } finally {
      await close();
    }
  });

  it("filters a still-open stream by the role's current permissions after a downgrade", async () => {
    const manager = await userWithSession('manager');
    await send(manager.auth, CUSTOMER_2, 'Hello from the manager');
    const role = await post('/v1/roles', { name: 'own_viewer', permissions: ['conversations.view'] });
    expect(role.statusCode, role.body).toBe(201);
    const { stream, close } = await openStream(manager.auth);
    try {
      const changed = await relay.app.inject({
        method: 'PUT',
        url: `/v1/users/${manager.userId}/role`,
        headers: org.auth,
        payload: { role: 'own_viewer' },
      });
      expect(changed.statusCode, changed.body).toBe(200);
      // Now confined to their own conversations and without pii.view.
      await textFromPhone('Not your conversation any more', CUSTOMER_3);
      await textFromPhone('Still your conversation', CUSTOMER_2);

      await eventually(async () => stream.text.includes('Still your conversation'));
      expect(stream.ended).toBe(false);
      expect(stream.text).not.toContain('Not your conversation any more');
      expect(stream.text).not.toContain(CUSTOMER_2);
      expect(stream.text).toContain(maskPhone(CUSTOMER_2));
    } finally {
      await close();
    }
  });

  it('masks the number for a stream without pii.view while a stream with it gets the same event in full', async () => {
    // The frame of an event is made once per view for all of the org's streams: the first stream
    // (with pii.view) must not hand its unmasked frame to the second.
    const role = await post('/v1/roles', {
      name: 'viewer_no_pii',
      permissions: ['conversations.view', 'conversations.view_all'],
    });
    expect(role.statusCode, role.body).toBe(201);
    const seer = await userWithSession('admin');
    const viewer = await userWithSession('viewer_no_pii');
    const full = await openStream(seer.auth);
    const masked = await openStream(viewer.auth);
    try {
      await textFromPhone('One event, two views', CUSTOMER_3);
      await eventually(async () => full.stream.text.includes('One event, two views'));
      await eventually(async () => masked.stream.text.includes('One event, two views'));
      expect(full.stream.text).toContain(CUSTOMER_3);
      expect(masked.stream.text).not.toContain(CUSTOMER_3);
      expect(masked.stream.text).toContain(maskPhone(CUSTOMER_3));
    } finally {
      await full.close();
      await masked.close();
    }
  });

  it('closes the stream when an edit of its custom role takes conversations.view away', async () => {
    const role = await post('/v1/roles', { name: 'desk', permissions: ['conversations.view', 'pii.view'] });
    expect(role.statusCode, role.body).toBe(201);
    const desk = await userWithSession('desk');
    const { stream, close } = await openStream(desk.auth);
    try {
      // No route edits a custom role yet; whatever writes the roles table must reach the stream.
      await db.query(`UPDATE roles SET permissions = ARRAY['pii.view'] WHERE org_id = $1 AND name = 'desk'`, [
        org.orgId,
      ]);
      await eventually(async () => stream.ended);
      expect(revokedReason(stream.text)).toBe('role_changed');
    } finally {
      await close();
    }
  });

  it('closes the stream when its access token expires by the relay clock', async () => {
    const manager = await userWithSession('manager');
    const { stream, close } = await openStream(manager.auth);
    try {
      await textFromPhone('While the token is valid');
      await eventually(async () => stream.text.includes('While the token is valid'));

      shiftMs += ACCESS_TTL_MS + 1000;
      await expectEndedBefore(stream, 'expired', 'After the token expired');
    } finally {
      await close();
    }
  });
});
