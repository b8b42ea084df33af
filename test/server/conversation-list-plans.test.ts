import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, type Queryable, TX_DATABASE } from '../../server/db/database.ts';
import { type ConversationFilter, listConversations } from '../../server/stores/conversation-queries.ts';
import { freshPostgres, POSTGRES_URL, postgresSkipNote, tokenizePhones } from '../helpers/db.ts';
import { seedOrg, testUser } from '../helpers/relay.ts';

/**
 * Issue #20 (2): each filter of the conversation list reads an index in list order and stops
 * after a page, at any depth; none reads the org's conversations whole. PostgreSQL's plans for an
 * analysed org of 20,000 conversations: the planner's choice is what production gets, so this
 * asserts the index each filter starts from and that no table it lists is read sequentially.
 */

postgresSkipNote('conversation list plans');

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const CONVERSATIONS = 20_000;

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe.skipIf(POSTGRES_URL === null)('conversation list plans on PostgreSQL', () => {
  let db: Database;
  let drop: () => Promise<void>;
  let orgId: string;
  let userId: string;

  beforeAll(async () => {
    ({ db, drop } = await freshPostgres());
    ({ orgId } = await seedOrg(db));
    userId = await testUser(db, { orgId, email: 'riley@example.com', now: new Date('2026-11-20T17:00:00Z') });
    await db.query(
      `INSERT INTO contacts (id, org_id, phone_e164, crm, crm_object, crm_id)
       SELECT gen_random_uuid(), $1, '+120255' || lpad(i::text, 5, '0'), 'sandbox', 'contact', 'c-' || i
         FROM generate_series(1, $2::int / 2) i`,
      [orgId, CONVERSATIONS],
    );
    // Every other conversation is linked to a CRM record; the rep has sent in one in fifty.
    await db.query(
      `INSERT INTO conversations (id, org_id, sender_number_id, contact_phone, contact_id, last_message_at)
       SELECT gen_random_uuid(), $1, (SELECT id FROM sender_numbers WHERE org_id = $1),
              '+120255' || lpad(i::text, 5, '0'),
              CASE WHEN i % 2 = 0 THEN (SELECT id FROM contacts WHERE org_id = $1 AND crm_id = 'c-' || (i / 2)) END,
              timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute'
         FROM generate_series(1, $2::int) i`,
      [orgId, CONVERSATIONS],
    );
    await db.query(
      `INSERT INTO conversation_participants (user_id, conversation_id, last_message_at)
       SELECT $2, id, last_message_at FROM conversations WHERE org_id = $1 AND right(contact_phone, 2)::int % 50 = 0`,
      [orgId, userId],
    );
    await tokenizePhones(db);
    await db.query('ANALYZE');
  });
  afterAll(async () => {
    await drop();
  });

  /** The plan PostgreSQL picks for the list query with this filter. */
  async function planOf(filter: Partial<ConversationFilter>): Promise<PlanNode[]> {
    let plan: PlanNode | undefined;
    const explaining: Queryable & { [TX_DATABASE]: Queryable } = {
      // A handle on the same database: its key vault (and phone key) is found through it.
      [TX_DATABASE]: db,
      async query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
        const rows = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
          `EXPLAIN (FORMAT JSON) ${sql}`,
          params,
        );
        plan = rows[0]?.['QUERY PLAN'][0].Plan;
        return [];
      },
    };
    const base = {
      phone: null,
      crm: null,
      crmId: null,
      objectType: null,
      sentBy: null,
      after: null,
      limit: 51,
    };
    await listConversations(explaining, orgId, { ...base, ...filter });
    if (plan === undefined) throw new Error('no plan');
    return nodes(plan);
  }

  const deep = { lastMessageAt: '2026-01-08 00:00:00+00', id: '00000000-0000-4000-8000-000000000000' };

  it.each([
    ['unfiltered, first page', {}, 'conversations_org_activity'],
    ['unfiltered, a deep page', { after: deep }, 'conversations_org_activity'],
    ['by phone', { phone: '+12025500100' }, 'conversations_org_phone_activity'],
    ['by phone, a deep page', { phone: '+12025500100', after: deep }, 'conversations_org_phone_activity'],
    [
      'by CRM record',
      { crm: 'sandbox', crmId: 'c-77', objectType: 'contact' },
      'conversations_contact_activity',
    ],
    ['by CRM record of any object type', { crm: 'sandbox', crmId: 'c-77' }, 'conversations_contact_activity'],
  ] as const)('reads %s from %s, never the whole table', async (_name, filter, index) => {
    const plan = await planOf(filter);
    expect(plan.map((n) => n['Index Name'])).toContain(index);
    const scanned = plan.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']);
    expect(scanned).not.toContain('conversations');
    expect(scanned).not.toContain('contacts');
  });

  it.each([
    ['first page', null],
    ['a deep page', deep],
  ] as const)('reads "mine" (%s) from the user’s own conversations, not the org’s', async (_name, after) => {
    const plan = await planOf({ sentBy: userId, after });
    expect(plan.map((n) => n['Index Name'])).toContain('conversation_participants_activity');
    expect(plan.map((n) => n['Index Name'])).not.toContain('conversations_org_activity');
    const scanned = plan.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']);
    expect(scanned).not.toContain('conversations');
    expect(scanned).not.toContain('conversation_participants');
  });
});
