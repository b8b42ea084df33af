import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../server/auth/api-keys.ts';
import { createSession } from '../../server/auth/sessions.ts';
import type { Database } from '../../server/db/database.ts';
import { freshPgliteRelay, seedOrg, type TestOrg, type TestRelay } from '../helpers/relay.ts';

/** Sandbox CRM contacts and their first phones. */
const DANA = { ref: 'crm=sandbox&objectType=contact&id=c-1001', phone: '+12025550143' };
const MARCO = { ref: 'crm=sandbox&objectType=contact&id=c-1002', phone: '+13125550178' };
const PRIYA = { ref: 'crm=sandbox&objectType=contact&id=c-1003', phone: '+14155550132' };
const SAM = { ref: 'crm=sandbox&objectType=lead&id=l-2001', phone: '+13035550161' };

let relay: TestRelay;
let db: Database;
let org: TestOrg;

beforeAll(async () => {
  relay = await freshPgliteRelay();
  db = relay.db;
  org = await seedOrg(db);
});
afterAll(async () => {
  await relay.close();
  await db.close();
});

type Auth = { authorization: string };

async function user(email: string, displayName: string | null): Promise<{ userId: string; auth: Auth }> {
  const userId = randomUUID();
  await db.query('INSERT INTO users (id, org_id, email, display_name, role) VALUES ($1, $2, $3, $4, $5)', [
    userId,
    org.orgId,
    email,
    displayName,
    'rep',
  ]);
  const session = await createSession(db, { orgId: org.orgId, userId, stage: 'full', now: relay.clock() });
  return { userId, auth: { authorization: `Bearer ${session.accessToken}` } };
}

/** Records an opt-in with these credentials, then reads who the panel and the ledger say recorded it. */
async function recordedBy(auth: Auth, contact: { ref: string; phone: string }) {
  const recorded = await relay.app.inject({
    method: 'POST',
    url: '/v1/consent',
    headers: auth,
    payload: { phone: contact.phone, kind: 'opt_in', source: 'verbal', evidence: 'Agreed on the call' },
  });
  expect(recorded.statusCode, recorded.body).toBe(201);
  const lookup = await relay.app.inject({
    method: 'GET',
    url: `/v1/contacts/lookup?${contact.ref}`,
    headers: org.auth,
  });
  expect(lookup.statusCode, lookup.body).toBe(200);
  const ledger = await relay.app.inject({
    method: 'GET',
    url: `/v1/consent/${encodeURIComponent(contact.phone)}`,
    headers: org.auth,
  });
  expect(ledger.statusCode, ledger.body).toBe(200);
  const [event] = ledger.json().events;
  return {
    panel: lookup.json().consent.evidence.actor,
    ledger: { actor: event.actor, actorName: event.actorName },
  };
}

describe('who recorded consent, in words a rep knows', () => {
  it("names an integration's API key by its label, and keeps the audit id in the ledger", async () => {
    const seen = await recordedBy(org.auth, DANA);
    expect(seen.panel).toBe('test key');
    expect(seen.ledger.actorName).toBe('test key');
    expect(seen.ledger.actor).toMatch(/^api-key:[0-9a-f-]{36}$/);
  });

  it('names a person by their display name, or their email when they have none', async () => {
    const riley = await user('riley@example.com', 'Riley Rep');
    expect((await recordedBy(riley.auth, MARCO)).panel).toBe('Riley Rep');
    const alex = await user('alex@example.com', null);
    expect((await recordedBy(alex.auth, PRIYA)).panel).toBe('alex@example.com');
  });

  it("names a person's own API key by the person, and an unnamed integration key without its full id", async () => {
    const sam = await user('sam@example.com', 'Sam Rep');
    const bound = await createApiKey(db, {
      orgId: org.orgId,
      role: 'owner',
      name: 'laptop',
      userId: sam.userId,
    });
    const seen = await recordedBy({ authorization: `Bearer ${bound.key}` }, SAM);
    expect(seen.panel).toBe('Sam Rep');

    const unnamed = await createApiKey(db, { orgId: org.orgId, role: 'owner' });
    const again = await relay.app.inject({
      method: 'POST',
      url: '/v1/consent',
      headers: { authorization: `Bearer ${unnamed.key}` },
      payload: { phone: DANA.phone, kind: 'opt_out', source: 'verbal', evidence: 'Asked us to stop' },
    });
    expect(again.statusCode, again.body).toBe(201);
    const lookup = await relay.app.inject({
      method: 'GET',
      url: `/v1/contacts/lookup?${DANA.ref}`,
      headers: org.auth,
    });
    expect(lookup.json().consent.evidence.actor).toBe(`an unnamed API key (${unnamed.id.slice(0, 8)})`);
  });
});
