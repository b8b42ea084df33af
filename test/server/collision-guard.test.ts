import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, freshDatabase, postgresSkipNote } from '../helpers/db.ts';
import {
  CUSTOMER,
  idemKey,
  optIn,
  seedOrg,
  signedInUser,
  steerableDaytimeClock,
  type TestOrg,
  type TestRelay,
  testRelay,
} from '../helpers/relay.ts';
import { storedMessages } from '../helpers/stored-texts.ts';

// Issue #19 (4): no two reps answer at once. A rep about to answer a text another rep answered
// within the last minute is asked first; while a rep composes, the others see "Sam is typing".
postgresSkipNote('collision guard');

type Auth = { authorization: string };

describe.each(ENGINES)('on %s', (engine) => {
  let relay: TestRelay;
  let org: TestOrg;
  let other: TestOrg;
  let drop: () => Promise<void>;
  let rita: { userId: string; auth: Auth };
  let sam: { userId: string; auth: Auth };
  let nina: { userId: string; auth: Auth };
  let conversationId = '';
  const time = steerableDaytimeClock();

  beforeAll(async () => {
    const database = await freshDatabase(engine);
    drop = database.drop;
    relay = await testRelay(database.db, {
      clock: time.clock,
    });
    org = await seedOrg(relay.db, { name: 'Acme Plumbing' });
    other = await seedOrg(relay.db, { name: 'Other Org', sender: '+12025550101' });
    const person = (email: string) =>
      signedInUser(relay.app, relay.db, { orgId: org.orgId, email, role: 'rep', now: relay.clock() });
    rita = await person('rita@acme.example');
    sam = await person('sam@acme.example');
    nina = await person('nina@acme.example');
    await optIn(relay.app, org, CUSTOMER);
    // Both reps have texted the customer, so both see the conversation; Nina never has.
    expect((await send(rita.auth, 'Your boiler service is booked for Tuesday.')).statusCode).toBe(202);
    const second = await send(sam.auth, 'Sam here, I will be your technician.');
    expect(second.statusCode, second.body).toBe(202);
    conversationId = second.json().message.conversationId;
  });
  afterAll(async () => {
    await relay.close();
    await drop();
  });

  function send(auth: Auth, body: string, extra: Record<string, unknown> = {}) {
    return relay.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...auth, 'idempotency-key': idemKey() },
      payload: { from: org.sender, to: CUSTOMER, body, ...extra },
    });
  }

  const customerSays = (text: string) =>
    relay.sandbox.textFromHandset({ handset: CUSTOMER, service: org.sender, text });

  it('asks a rep before answering a text another rep answered within the minute', async () => {
    await customerSays('Can you come Monday instead?');
    expect((await send(rita.auth, 'Monday works, see you at 9.')).statusCode).toBe(202);
    // Rita may add to her own answer; Sam is asked first.
    expect((await send(rita.auth, 'Bring the boiler manual if you have it.')).statusCode).toBe(202);
    const asked = await send(sam.auth, 'Monday at 10 then?');
    expect(asked.statusCode, asked.body).toBe(409);
    expect(asked.json().error).toMatchObject({
      code: 'ALREADY_ANSWERED',
      details: { answeredBy: { userId: rita.userId } },
    });
    expect(asked.json().error.message).toMatch(/answered this customer \d+ seconds? ago/);
    // Nothing was stored for the question; confirming sends it.
    expect((await storedMessages(relay.db)).filter((m) => m.body.startsWith('Monday at 10'))).toEqual([]);
    expect((await send(sam.auth, 'Monday at 10 then?', { confirmAnswered: true })).statusCode).toBe(202);
  });

  it('asks nobody once the minute is over, after a new text from the customer, or an integration’s key', async () => {
    await customerSays('Great, thanks!');
    expect((await send(rita.auth, 'You are welcome.')).statusCode).toBe(202);
    expect((await send(org.auth, 'Automated: your booking is confirmed.')).statusCode).toBe(202);
    time.advance(61_000);
    expect((await send(sam.auth, 'See you Monday.')).statusCode).toBe(202);
    await customerSays('One more question: do I need to be home?');
    expect((await send(sam.auth, 'Yes please, someone over 18.')).statusCode).toBe(202);
  });

  it('refuses a confirmation that is not true or false, changing nothing', async () => {
    const bad = await send(sam.auth, 'x', { confirmAnswered: 'yes please' });
    expect(bad.statusCode).toBe(400);
  });

  it('tells the others who see the conversation that a rep is typing, once per few seconds', async () => {
    const typing = (auth: Auth, state: string, id = conversationId) =>
      relay.app.inject({
        method: 'POST',
        url: `/v1/conversations/${id}/typing`,
        headers: auth,
        payload: { state },
      });
    const events = async () =>
      relay.db.query<{ payload: { user: { id: string; name: string }; state: string; until: string } }>(
        `SELECT payload FROM events WHERE type = 'conversation.typing' AND conversation_id = $1 ORDER BY id`,
        [conversationId],
      );
    const first = await typing(sam.auth, 'composing');
    expect(first.statusCode, first.body).toBe(200);
    expect((await typing(sam.auth, 'composing')).statusCode).toBe(200);
    expect((await typing(sam.auth, 'stopped')).statusCode).toBe(200);
    const announced = await events();
    expect(announced.map((e) => e.payload.state)).toEqual(['composing', 'stopped']);
    expect(announced[0]?.payload.user).toEqual({ id: sam.userId, name: expect.any(String) });
    expect(new Date(announced[0]?.payload.until ?? 0).getTime()).toBeGreaterThan(relay.clock().getTime());

    // A rep who cannot see the conversation, another org, a key, and bad input: refused, nothing announced.
    expect((await typing(nina.auth, 'composing')).statusCode).toBe(404);
    const stranger = await signedInUser(relay.app, relay.db, {
      orgId: other.orgId,
      email: 'olga@other.example',
      role: 'manager',
      now: relay.clock(),
    });
    expect((await typing(stranger.auth, 'composing')).statusCode).toBe(404);
    expect((await typing(org.auth, 'composing')).json().error.code).toBe('USER_REQUIRED');
    expect((await typing(sam.auth, 'shouting')).statusCode).toBe(400);
    expect((await events()).length).toBe(2);
  });
});
