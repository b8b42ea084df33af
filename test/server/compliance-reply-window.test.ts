import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPglite } from '../helpers/db.ts';
import {
  daytimeClock,
  idemKey,
  optIn,
  seedOrg,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';

// A running clock that starts at 03:00 UTC (22:00 or 23:00 in Washington DC), whatever the real
// hour: quiet hours at the customer for the whole file. The relay stamps when the customer wrote
// with this same clock.
const daytime = daytimeClock();
const clock = () => new Date(daytime().getTime() + 10 * 3_600_000);
const CUSTOMER = '+12025550177';

let relay: TestRelay;
let org: TestOrg;

beforeAll(async () => {
  relay = await testRelay(await freshPglite(), { clock });
  org = await seedOrg(relay.db);
  await optIn(relay.app, org, CUSTOMER);
});
afterAll(async () => {
  await relay.close();
  await relay.db.close();
});

const send = (body: string) =>
  relay.app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: { ...org.auth, 'idempotency-key': idemKey() },
    payload: { from: org.sender, to: CUSTOMER, body },
  });

describe('quiet-hours reply window (org policy)', () => {
  it('refuses a late reply when the org has no reply window', async () => {
    await relay.sandbox.textFromHandset({
      handset: CUSTOMER,
      service: org.sender,
      text: 'Are you still open?',
    });
    const response = await send('Yes, until 11pm.');
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe('QUIET_HOURS');
  });

  it('lets a reply within the window through, records the exception, and the worker sends it', async () => {
    await relay.db.query(
      `UPDATE orgs SET settings = settings || '{"quietHoursReplyWindowMinutes": 10}' WHERE id = $1`,
      [org.orgId],
    );
    const response = await send('Yes, until 11pm tonight.');
    expect(response.statusCode).toBe(202);
    expect(response.json().complianceException).toMatchObject({
      policy: 'customer_reply_window',
      windowMinutes: 10,
    });
    const id: string = response.json().message.id;
    const logged = await relay.db.query('SELECT policy FROM compliance_exceptions WHERE message_id = $1', [
      id,
    ]);
    expect(logged).toEqual([{ policy: 'customer_reply_window' }]);
    // The exception is a quiet-hours override by policy: the audit log names who sent it and why.
    const audited = await relay.db.query<{
      actor: string;
      detail: { policy: string; windowMinutes: number };
    }>(
      `SELECT actor, detail FROM audit_log WHERE org_id = $1 AND action = 'compliance.quiet_hours_exception'
         AND target_type = 'message' AND target_id = $2`,
      [org.orgId, id],
    );
    expect(audited).toEqual([
      {
        actor: expect.stringMatching(/^api-key:/),
        detail: expect.objectContaining({ policy: 'customer_reply_window', windowMinutes: 10 }),
      },
    ]);
    await relay.worker.drain();
    const rows = await relay.db.query<{ status: string }>('SELECT status FROM messages WHERE id = $1', [id]);
    expect(rows[0]?.status).not.toBe('queued');
  });

  it('refuses once the window has passed since the customer wrote', async () => {
    await relay.db.query(
      `UPDATE conversations SET last_inbound_at = $2::timestamptz - interval '11 minutes' WHERE org_id = $1`,
      [org.orgId, clock()],
    );
    const response = await send('One more thing…');
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe('QUIET_HOURS');
  });
});
