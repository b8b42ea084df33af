import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../server/auth/permissions.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { createKeyForOrg } from '../../server/organisations/org-admin.ts';
import { maskPhone } from '../../server/phone.ts';
import { phoneToken } from '../../server/stores/phone-columns.ts';
import { freshPglite } from '../helpers/db.ts';
import { idemKey, optIn, seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';

/**
 * Issue #13, finding 3: after a customer opts out, nobody but the customer (START, or YES to a
 * double opt-in question) re-opens texting, except a person holding consent.override who writes
 * down why; that override is audited. CRM imports come from integrations, never from a person.
 */
const db = await freshPglite();
let relay: TestRelay;
let owner: TestOrg;
let nextPhone = 2_025_550_200;

const fresh = () => `+1${nextPhone++}`;

async function keyAuth(role: Role): Promise<Record<string, string>> {
  const { key } = await createKeyForOrg(db, { orgId: owner.orgId, role, name: `${role} key` });
  return { authorization: `Bearer ${key}` };
}

async function personAuth(role: string): Promise<Record<string, string>> {
  const userId = randomUUID();
  await db.query('INSERT INTO users (id, org_id, email, role) VALUES ($1, $2, $3, $4)', [
    userId,
    owner.orgId,
    `${role}-${userId.slice(0, 8)}@acme.test`,
    role,
  ]);
  const session = await createSession(db, {
    orgId: owner.orgId,
    userId,
    stage: 'full',
    now: relay.clock(),
  });
  return { authorization: `Bearer ${session.accessToken}` };
}

const record = (auth: Record<string, string>, payload: Record<string, unknown>) =>
  relay.app.inject({ method: 'POST', url: '/v1/consent', headers: auth, payload });

const send = (phone: string) =>
  relay.app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: { ...owner.auth, 'idempotency-key': idemKey() },
    payload: { from: owner.sender, to: phone, body: 'Your appointment is on Thursday.' },
  });

/** A customer who opted in, then texted STOP. */
async function optedOutCustomer(): Promise<string> {
  const phone = fresh();
  await optIn(relay.app, owner, phone);
  await relay.sandbox.textFromHandset({ handset: phone, service: owner.sender, text: 'STOP' });
  const status = await relay.app.inject({ method: 'GET', url: `/v1/consent/${phone}`, headers: owner.auth });
  expect(status.json().status).toBe('opted_out');
  return phone;
}

async function setDoubleOptIn(on: boolean): Promise<void> {
  await db.query(
    `UPDATE orgs SET settings = settings || jsonb_build_object('doubleOptIn', $2::boolean) WHERE id = $1`,
    [owner.orgId, on],
  );
}

beforeAll(async () => {
  relay = await testRelay(db);
  owner = await seedOrg(db);
});
afterAll(async () => {
  await relay.close();
  await db.close();
});

describe('re-opting in a customer who opted out', () => {
  it('refuses a rep key importing an opt-in from "the CRM" after the customer texted STOP', async () => {
    const phone = await optedOutCustomer();
    const rep = await keyAuth('rep');
    const answer = await record(rep, { phone, kind: 'opt_in', source: 'crm_import', evidence: 'imported' });
    expect(answer.statusCode).toBe(409);
    expect(answer.json().error.code).toBe('CUSTOMER_OPTED_OUT');
    expect((await send(phone)).json().error.code).toBe('OPTED_OUT');
  });

  it('refuses a rep recording a verbal opt-in after STOP, with double opt-in off', async () => {
    await setDoubleOptIn(false);
    const phone = await optedOutCustomer();
    const answer = await record(await personAuth('rep'), {
      phone,
      kind: 'opt_in',
      source: 'verbal',
      evidence: 'She said on the phone it is fine again',
    });
    expect(answer.statusCode).toBe(409);
    expect(answer.json().error.code).toBe('CUSTOMER_OPTED_OUT');
    expect((await send(phone)).json().error.code).toBe('OPTED_OUT');
  });

  it('refuses it with double opt-in on too, and asks the opted-out customer nothing', async () => {
    const phone = await optedOutCustomer();
    await setDoubleOptIn(true);
    try {
      const answer = await record(await keyAuth('rep'), {
        phone,
        kind: 'opt_in',
        source: 'crm_import',
        evidence: 'imported',
      });
      expect(answer.statusCode).toBe(409);
      const asked = await db.query(
        `SELECT 1 FROM messages WHERE to_e164 = $1 AND purpose = 'opt_in_request'`,
        [phoneToken(db, phone)],
      );
      expect(asked).toEqual([]);
    } finally {
      await setDoubleOptIn(false);
    }
  });

  it('refuses an admin who lacks consent.override even when asking to override', async () => {
    const phone = await optedOutCustomer();
    const answer = await record(await personAuth('admin'), {
      phone,
      kind: 'opt_in',
      source: 'verbal',
      evidence: 'Customer called the front desk on 3 Dec and asked to get reminders again.',
      override: true,
    });
    expect(answer.statusCode).toBe(403);
    expect(answer.json().error.code).toBe('FORBIDDEN');
  });

  it('lets an owner override with written evidence, and audits who, when and why', async () => {
    const phone = await optedOutCustomer();
    const auth = await personAuth('owner');
    const short = await record(auth, {
      phone,
      kind: 'opt_in',
      source: 'verbal',
      evidence: 'ok now',
      override: true,
    });
    expect(short.statusCode).toBe(422);
    expect(short.json().error.code).toBe('OVERRIDE_EVIDENCE_REQUIRED');
    const evidence = 'Customer called the front desk on 3 Dec and asked to get reminders again.';
    const answer = await record(auth, { phone, kind: 'opt_in', source: 'verbal', evidence, override: true });
    expect(answer.statusCode, answer.body).toBe(201);
    expect(answer.json().status).toBe('opted_in');
    const audit = await db.query<{ kind: string; detail: { phone: string; evidence: string } }>(
      `SELECT kind, detail FROM auth_events WHERE org_id = $1 AND kind = 'consent_override'`,
      [owner.orgId],
    );
    // The number masked: a customer's number is stored nowhere in clear (phone-tokens.ts).
    expect(audit.at(-1)).toMatchObject({
      kind: 'consent_override',
      detail: { phone: maskPhone(phone), evidence },
    });
    expect(JSON.stringify(audit)).not.toContain(phone.slice(1));
    expect((await send(phone)).statusCode).toBe(202);
  });

  it('still lets the customer opt back in by texting START', async () => {
    const phone = await optedOutCustomer();
    await relay.sandbox.textFromHandset({ handset: phone, service: owner.sender, text: 'START' });
    expect((await send(phone)).statusCode).toBe(202);
  });
});

describe('CRM imports', () => {
  it('refuses crm_import from a signed-in person: imports come from integration keys', async () => {
    const answer = await record(await personAuth('owner'), {
      phone: fresh(),
      kind: 'opt_in',
      source: 'crm_import',
      evidence: 'imported',
    });
    expect(answer.statusCode).toBe(403);
    expect(answer.json().error.code).toBe('CRM_IMPORT_INTEGRATION_ONLY');
  });

  it('accepts crm_import from an integration key for a number that never opted out', async () => {
    const answer = await record(owner.auth, {
      phone: fresh(),
      kind: 'opt_in',
      source: 'crm_import',
      evidence: 'HubSpot list "Newsletter", form fill 2026-10-02',
    });
    expect(answer.statusCode, answer.body).toBe(201);
  });
});
