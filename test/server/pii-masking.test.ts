import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { createKeyForOrg } from '../../server/organisations/org-admin.ts';
import {
  CUSTOMER,
  freshPgliteRelay,
  idemKey,
  seedOrg,
  type TestOrg,
  type TestRelay,
} from '../helpers/relay.ts';

/**
 * Issue #13, finding 9: a role without pii.view (the built-in auditor) sees phone numbers masked
 * everywhere, including inside consent evidence, and cannot confirm a guessed number by filtering
 * conversations by phone.
 */

let relay: TestRelay;
let db: Database;
let owner: TestOrg;
let auditor: { authorization: string };

/** Evidence as a rep types it, naming the customer's number and a second one in North American form. */
const EVIDENCE =
  'Customer called from +1 202-555-0143 and asked to be texted; her office line is (312) 555-0178.';

beforeAll(async () => {
  relay = await freshPgliteRelay();
  db = relay.db;
  owner = await seedOrg(db);
  const { key } = await createKeyForOrg(db, { orgId: owner.orgId, role: 'auditor', name: 'auditor' });
  auditor = { authorization: `Bearer ${key}` };
  const recorded = await relay.app.inject({
    method: 'POST',
    url: '/v1/consent',
    headers: owner.auth,
    payload: { phone: CUSTOMER, kind: 'opt_in', source: 'verbal', evidence: EVIDENCE },
  });
  expect(recorded.statusCode, recorded.body).toBe(201);
  const sent = await relay.app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: { ...owner.auth, 'idempotency-key': idemKey() },
    payload: { from: owner.sender, to: CUSTOMER, body: 'Your appointment is at 3pm.' },
  });
  expect(sent.statusCode, sent.body).toBe(202);
});
afterAll(async () => {
  await relay.close();
  await db.close();
});

describe('GET /v1/consent/:phone without pii.view', () => {
  it('masks the phone numbers inside the consent evidence, as the contact lookup does', async () => {
    const response = await relay.app.inject({
      method: 'GET',
      url: `/v1/consent/${encodeURIComponent(CUSTOMER)}`,
      headers: auditor,
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.phone).toBe('+1••••••0143');
    expect(body.events).toHaveLength(1);
    expect(body.events[0].evidence).toBe(
      'Customer called from +1 •••-•••-0143 and asked to be texted; her office line is (•••) •••-0178.',
    );
    expect(response.body).not.toContain('555-0143');
    expect(response.body).not.toContain('555-0178');
  });

  it('still shows the evidence in clear to a role with pii.view', async () => {
    const response = await relay.app.inject({
      method: 'GET',
      url: `/v1/consent/${encodeURIComponent(CUSTOMER)}`,
      headers: owner.auth,
    });
    expect(response.json().events[0].evidence).toBe(EVIDENCE);
  });
});

describe('GET /v1/conversations?phone= without pii.view', () => {
  it('is refused with 403 PII_VIEW_REQUIRED, so a guessed number cannot be confirmed', async () => {
    const known = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations?phone=${encodeURIComponent(CUSTOMER)}`,
      headers: auditor,
    });
    const unknown = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations?phone=${encodeURIComponent('+13125550178')}`,
      headers: auditor,
    });
    for (const response of [known, unknown]) {
      expect(response.statusCode, response.body).toBe(403);
      expect(response.json()).toMatchObject({
        error: { code: 'PII_VIEW_REQUIRED', details: { permission: 'pii.view' } },
      });
    }
  });

  it('still lists conversations without the phone filter, with the numbers masked', async () => {
    const response = await relay.app.inject({ method: 'GET', url: '/v1/conversations', headers: auditor });
    expect(response.statusCode).toBe(200);
    expect(response.json().conversations).toEqual([
      expect.objectContaining({ contactPhone: '+1••••••0143' }),
    ]);
  });

  it('still filters by phone for a role with pii.view', async () => {
    const response = await relay.app.inject({
      method: 'GET',
      url: `/v1/conversations?phone=${encodeURIComponent(CUSTOMER)}`,
      headers: owner.auth,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().conversations).toHaveLength(1);
  });
});
