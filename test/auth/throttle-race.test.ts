import { describe, expect, it } from 'vitest';
import { issueSsoLinkRequest } from '../../server/auth/sso-link-requests.ts';
import { totpCode } from '../../server/auth/totp.ts';
import { createUser } from '../../server/auth/users.ts';
import type { Database } from '../../server/db/database.ts';
import { createOrg } from '../../server/organisations/org-admin.ts';
import { ENGINES, freshDatabase, freshPglite, postgresSkipNote } from '../helpers/db.ts';
import { type TestRelay, testRelay } from '../helpers/relay.ts';

// Issue #13, finding 8 follow-up: every credential check besides password sign-in used to look
// at the failure count first and record the failure afterwards, so parallel guesses all passed
// the look before any was recorded. These attacks send 40 wrong guesses at once and count how
// many were actually checked.

let now = new Date('2026-03-02T17:00:00Z');
const clock = () => now;
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

const PASSWORD = 'correct horse battery staple';
const WRONG = 'not the password at all';
const ATTACKER = '198.51.100.40';
const PARALLEL = 40;

interface Setup {
  db: Database;
  relay: TestRelay;
  orgId: string;
  drop(): Promise<void>;
}

async function setUp(db: Database, drop: () => Promise<void>): Promise<Setup> {
  const relay = await testRelay(db, { clock });
  const { orgId } = await createOrg(db, 'Race Co');
  return { db, relay, orgId, drop };
}

async function onEngine(engine: (typeof ENGINES)[number]): Promise<Setup> {
  const fresh = await freshDatabase(engine);
  return setUp(fresh.db, fresh.drop);
}

async function tearDown(s: Setup): Promise<void> {
  await s.relay.close();
  await s.drop();
}

async function addUser(s: Setup, email: string): Promise<string> {
  const { user } = await createUser(s.db, {
    orgId: s.orgId,
    email,
    role: 'rep',
    password: PASSWORD,
    actor: 'test',
    now,
    publicUrl: 'http://relay.test',
  });
  return user.id;
}

async function signIn(s: Setup, email: string): Promise<{ accessToken: string }> {
  const response = await s.relay.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password: PASSWORD },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { accessToken: string };
}

/** A user with an authenticator app; returns its secret. */
async function withAuthenticator(s: Setup, email: string): Promise<string> {
  await addUser(s, email);
  const { accessToken } = await signIn(s, email);
  const headers = { authorization: `Bearer ${accessToken}` };
  const enrol = await s.relay.app.inject({ method: 'POST', url: '/v1/auth/totp/enrol', headers });
  expect(enrol.statusCode, enrol.body).toBe(201);
  const { secret } = enrol.json() as { secret: string };
  const confirm = await s.relay.app.inject({
    method: 'POST',
    url: '/v1/auth/totp/confirm',
    headers,
    payload: { code: totpCode(secret, now) },
  });
  expect(confirm.statusCode, confirm.body).toBe(200);
  advance(60_000);
  return secret;
}

/** `n` six-digit codes none of which the authenticator accepts around now. */
function wrongCodes(secret: string, n: number): string[] {
  const valid = new Set([-30_000, 0, 30_000].map((d) => totpCode(secret, new Date(now.getTime() + d))));
  const codes: string[] = [];
  for (let c = 100_000; codes.length < n; c += 7_919) {
    const code = String(c % 1_000_000).padStart(6, '0');
    if (!valid.has(code)) codes.push(code);
  }
  return codes;
}

async function failureEvents(s: Setup, kind: string, method: string): Promise<number> {
  const [row] = await s.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM auth_events WHERE kind = $1 AND detail->>'method' = $2`,
    [kind, method],
  );
  return row?.n ?? 0;
}

type Answer = { statusCode: number; headers: Record<string, unknown>; json(): unknown };
const codeOf = (a: Answer) => (a.json() as { error?: { code?: string } }).error?.code;

/** The answers split into checked guesses (refused with `refusal`) and locked ones (429). */
function tally(answers: Answer[], refusal: string) {
  const checked = answers.filter((a) => codeOf(a) === refusal).length;
  const locked = answers.filter((a) => a.statusCode === 429);
  for (const a of locked) {
    expect(codeOf(a)).toBe('TOO_MANY_ATTEMPTS');
    const wait = (a.json() as { error: { details: { retryAfterSeconds: number } } }).error.details
      .retryAfterSeconds;
    expect(wait).toBeGreaterThan(0);
    expect(a.headers['retry-after']).toBe(String(wait));
  }
  return { checked, locked: locked.length };
}

postgresSkipNote('parallel credential guesses');

describe.each(ENGINES)('parallel guesses on %s', (engine) => {
  it(`${PARALLEL} wrong authenticator codes against one mfaToken get at most 5 code checks`, async () => {
    const s = await onEngine(engine);
    try {
      const secret = await withAuthenticator(s, 'mfa.raced@example.com');
      const login = await s.relay.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: 'mfa.raced@example.com', password: PASSWORD },
      });
      const { mfaToken } = login.json() as { mfaToken: string };
      expect(mfaToken).toBeTypeOf('string');
      const answers = await Promise.all(
        wrongCodes(secret, PARALLEL).map((code) =>
          s.relay.app.inject({
            method: 'POST',
            url: '/v1/auth/mfa',
            payload: { mfaToken, code },
            remoteAddress: ATTACKER,
          }),
        ),
      );
      const { checked, locked } = tally(answers, 'INVALID_CODE');
      expect(checked).toBe(5);
      expect(locked).toBe(PARALLEL - 5);
      expect(await failureEvents(s, 'sign_in_failed', 'totp')).toBe(5);
      // The right code is refused too while the account's second step is locked.
      const right = await s.relay.app.inject({
        method: 'POST',
        url: '/v1/auth/mfa',
        payload: { mfaToken, code: totpCode(secret, now) },
        remoteAddress: ATTACKER,
      });
      expect(right.statusCode).toBe(429);
    } finally {
      await tearDown(s);
    }
  }, 60_000);

  it(`${PARALLEL} wrong passwords at /v1/auth/reauth get at most 5 password checks`, async () => {
    const s = await onEngine(engine);
    try {
      await addUser(s, 'reauth.raced@example.com');
      const { accessToken } = await signIn(s, 'reauth.raced@example.com');
      const answers = await Promise.all(
        Array.from({ length: PARALLEL }, (_, i) =>
          s.relay.app.inject({
            method: 'POST',
            url: '/v1/auth/reauth',
            headers: { authorization: `Bearer ${accessToken}` },
            payload: { password: `${WRONG} ${i}` },
          }),
        ),
      );
      const { checked, locked } = tally(answers, 'REAUTH_FAILED');
      expect(checked).toBe(5);
      expect(locked).toBe(PARALLEL - 5);
      expect(await failureEvents(s, 'reauth_failed', 'password')).toBe(5);
    } finally {
      await tearDown(s);
    }
  }, 60_000);

  it(`${PARALLEL} wrong passwords at /v1/sso/saml/link get at most 5 password checks`, async () => {
    const s = await onEngine(engine);
    try {
      const userId = await addUser(s, 'link.raced@example.com');
      await s.db.query(
        `INSERT INTO saml_settings (org_id, idp_entity_id, sso_url, idp_cert, default_role, sso_only, updated_at)
         VALUES ($1, 'https://idp.example.com', 'https://idp.example.com/sso', 'not-a-real-cert', 'rep', false, $2)`,
        [s.orgId, now],
      );
      const linkToken = await issueSsoLinkRequest(
        s.db,
        { orgId: s.orgId, userId, idpEntityId: 'https://idp.example.com', nameId: 'link.raced@example.com' },
        now,
      );
      const answers = await Promise.all(
        Array.from({ length: PARALLEL }, (_, i) =>
          s.relay.app.inject({
            method: 'POST',
            url: '/v1/sso/saml/link',
            payload: { linkToken, password: `${WRONG} ${i}` },
            remoteAddress: ATTACKER,
          }),
        ),
      );
      const { checked, locked } = tally(answers, 'INVALID_CREDENTIALS');
      expect(checked).toBe(5);
      expect(locked).toBe(PARALLEL - 5);
      expect(await failureEvents(s, 'sign_in_failed', 'sso_link')).toBe(5);
    } finally {
      await tearDown(s);
    }
  }, 60_000);

  it('20 parallel reset requests for one account send at most 3 mails', async () => {
    const s = await onEngine(engine);
    try {
      await addUser(s, 'reset.raced@example.com');
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          s.relay.app.inject({
            method: 'POST',
            url: '/v1/auth/password-reset',
            payload: { email: 'reset.raced@example.com' },
          }),
        ),
      );
      const { locked } = tally(answers, 'NONE');
      expect(answers.filter((a) => a.statusCode === 202)).toHaveLength(3);
      expect(locked).toBe(17);
      const [row] = await s.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM auth_events WHERE kind = 'password_reset_requested'`,
      );
      expect(row?.n).toBe(3);
    } finally {
      await tearDown(s);
    }
  }, 60_000);
});

describe('locks outside the race', () => {
  it('answers a locked second step exactly like a locked sign-in, and a wait later lets the owner in', async () => {
    const db = await freshPglite();
    const s = await setUp(db, () => db.close());
    try {
      const secret = await withAuthenticator(s, 'mfa.locked@example.com');
      const login = await s.relay.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: 'mfa.locked@example.com', password: PASSWORD },
      });
      const { mfaToken } = login.json() as { mfaToken: string };
      for (const code of wrongCodes(secret, 5)) {
        const wrong = await s.relay.app.inject({
          method: 'POST',
          url: '/v1/auth/mfa',
          payload: { mfaToken, code },
        });
        expect(wrong.statusCode).toBe(401);
      }
      const locked = await s.relay.app.inject({
        method: 'POST',
        url: '/v1/auth/mfa',
        payload: { mfaToken, code: totpCode(secret, now) },
      });
      expect(locked.statusCode).toBe(429);
      expect(locked.headers['retry-after']).toBe(String(15 * 60));
      expect(locked.json()).toEqual({
        error: {
          code: 'TOO_MANY_ATTEMPTS',
          message: 'Too many failed attempts. Try again in 15 minutes, or reset your password.',
          details: { retryAfterSeconds: 15 * 60 },
        },
      });
      advance(15 * 60_000 + 1_000);
      const again = await s.relay.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: 'mfa.locked@example.com', password: PASSWORD },
      });
      const fresh = (again.json() as { mfaToken: string }).mfaToken;
      const through = await s.relay.app.inject({
        method: 'POST',
        url: '/v1/auth/mfa',
        payload: { mfaToken: fresh, code: totpCode(secret, now) },
      });
      expect(through.statusCode, through.body).toBe(201);
    } finally {
      await tearDown(s);
    }
  });

  it('does not count a refusal that checked no credential (reauth by code without an authenticator)', async () => {
    const db = await freshPglite();
    const s = await setUp(db, () => db.close());
    try {
      await addUser(s, 'no.app@example.com');
      const { accessToken } = await signIn(s, 'no.app@example.com');
      const headers = { authorization: `Bearer ${accessToken}` };
      for (let i = 0; i < 8; i++) {
        const refused = await s.relay.app.inject({
          method: 'POST',
          url: '/v1/auth/reauth',
          headers,
          payload: { code: '123456' },
        });
        expect(codeOf(refused)).toBe('NO_AUTHENTICATOR');
      }
      const proven = await s.relay.app.inject({
        method: 'POST',
        url: '/v1/auth/reauth',
        headers,
        payload: { password: PASSWORD },
      });
      expect(proven.statusCode, proven.body).toBe(200);
    } finally {
      await tearDown(s);
    }
  });
});
