import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/auth/users.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import type { Database } from '../../server/db/database.ts';
import { sha256 } from '../../server/ids.ts';
import { addSenderNumber, createKeyForOrg, createOrg } from '../../server/organisations/org-admin.ts';
import { type Relay, startRelay } from '../../server/runtime.ts';
import { freshPglite } from '../helpers/db.ts';
import { eventually } from '../helpers/relay.ts';

// Issue #13, finding 7: outside the sandbox, reset and invite links must be delivered by mail
// and never be written to the database in clear.

interface Received {
  to: string[];
  from: string;
  data: string;
}

/**
 * A real SMTP server (smtp-server) on an ephemeral port; `refuseWithBody` makes it bounce every
 * mail, `acceptAfterMs` makes it take that long to accept one after its DATA arrived.
 */
async function smtpSink(options: { refuseWithBody?: boolean; acceptAfterMs?: number } = {}) {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const data = Buffer.concat(chunks).toString('utf8');
        if (options.refuseWithBody) {
          // Some servers quote the message back in the refusal; the relay must not log it.
          const error = new Error(
            `mailbox unavailable, message was: ${data.replace(/\s+/g, ' ')}`,
          ) as Error & {
            responseCode: number;
          };
          error.responseCode = 550;
          callback(error);
          received.push({ to: [], from: '', data });
          return;
        }
        const accept = () => {
          received.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            data,
          });
          callback();
        };
        if (options.acceptAfterMs === undefined) accept();
        else setTimeout(accept, options.acceptAfterMs);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Quoted-printable soft line breaks would split a link; undo them before looking. */
const unfold = (data: string) => data.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
const linkToken = (data: string) => /token=([A-Za-z0-9_-]+)/.exec(unfold(data))?.[1] ?? null;

const plivoEnv = (smtpUrl: string | undefined) => ({
  PUBLIC_URL: 'https://relay.example.com',
  SMS_PROVIDER: 'plivo',
  PLIVO_AUTH_ID: 'MAXXXXXXXXXXXXXXXXXX',
  PLIVO_AUTH_TOKEN: 'plivo-token',
  PLIVO_API_URL: 'http://127.0.0.1:1',
  SECRETS_KEY: randomBytes(32).toString('base64'),
  OUTBOX_WORKER: 'off',
  MAIL_FROM: 'CRM Texting <no-reply@relay.example.com>',
  ...(smtpUrl === undefined ? {} : { SMTP_URL: smtpUrl }),
});

/** A Plivo-mode relay as `npm start` builds it, with its log lines collected. */
async function plivoRelay(db: Database, smtpUrl: string) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const relay = await startRelay(loadConfig(plivoEnv(smtpUrl)), {
    db,
    logger: { level: 'info', stream },
  });
  return { relay, lines };
}

const PASSWORD = 'correct horse battery staple';

describe('mail configuration', () => {
  it('refuses to start in Plivo mode without SMTP_URL, saying invites and resets need it', () => {
    let caught: unknown;
    try {
      loadConfig(plivoEnv(undefined));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe('SMTP_URL');
    expect((caught as Error).message).toMatch(/invites and password resets/);
  });

  it('accepts only smtp:// and smtps:// URLs', () => {
    expect(() => loadConfig({ SMTP_URL: 'http://mail.example.com' })).toThrow(/^SMTP_URL: /);
    expect(loadConfig({ SMTP_URL: 'smtps://u:p@mail.example.com:465' }).mail.smtpUrl).toBe(
      'smtps://u:p@mail.example.com:465',
    );
  });

  it('keeps the sandbox mailbox as the default in the sandbox', () => {
    expect(loadConfig({}).mail.smtpUrl).toBeNull();
  });
});

describe('mail in Plivo mode', () => {
  let db: Database;
  let sink: Awaited<ReturnType<typeof smtpSink>>;
  let relay: Relay;
  let lines: string[];
  let orgId: string;
  let ownerKey: string;

  beforeAll(async () => {
    db = await freshPglite();
    sink = await smtpSink();
    ({ relay, lines } = await plivoRelay(db, sink.url));
    ({ orgId } = await createOrg(db, 'Plivo Co'));
    await addSenderNumber(db, { orgId, e164: '+12025550100' });
    ownerKey = (await createKeyForOrg(db, { orgId, role: 'owner', name: 'owner' })).key;
    await createUser(db, {
      orgId,
      email: 'owner@plivo.test',
      role: 'owner',
      password: PASSWORD,
      actor: 'test',
      now: new Date(Date.parse('2026-03-02T17:00:00Z')),
      publicUrl: 'https://relay.example.com',
    });
  });

  afterAll(async () => {
    await relay?.close();
    await sink?.close();
    await db?.close();
  });

  it('mails the reset link over SMTP, writes nothing with a live link to the database, and the link works', async () => {
    const asked = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/password-reset',
      payload: { email: 'owner@plivo.test' },
    });
    expect(asked.statusCode, asked.body).toBe(202);
    // Sent after the answer (server/mail/outgoing.ts).
    const mail = await eventually(async () => sink.received.find((m) => m.to.includes('owner@plivo.test')));
    expect(mail?.from).toBe('no-reply@relay.example.com');
    const token = linkToken(mail?.data ?? '');
    expect(token).not.toBeNull();
    expect(unfold(mail?.data ?? '')).toContain(`https://relay.example.com/auth/reset?token=${token}`);

    expect(await db.query('SELECT 1 FROM sandbox_mail')).toHaveLength(0);
    const stored = await db.query<{ token_hash: Uint8Array }>(
      `SELECT token_hash FROM auth_tokens WHERE kind = 'reset_password'`,
    );
    expect(stored.map((r) => Buffer.from(r.token_hash).toString('hex'))).toEqual([
      Buffer.from(sha256(token ?? '')).toString('hex'),
    ]);
    // Nothing anywhere in the database holds the token itself.
    const dump = await db.query<{ t: string }>(
      `SELECT coalesce(string_agg(row_to_json(a)::text, ' '), '') AS t FROM auth_tokens a`,
    );
    expect(dump[0]?.t ?? '').not.toContain(token ?? '');

    const set = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/password-reset/confirm',
      payload: { token, password: 'a brand new passphrase 2026' },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(
      sink.received.some((m) => m.to.includes('owner@plivo.test') && /password was changed/.test(m.data)),
    ).toBe(true);
    expect(lines.join('')).not.toContain(token ?? '');
  });

  it('mails invitations over SMTP too', async () => {
    const invited = await relay.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { authorization: `Bearer ${ownerKey}` },
      payload: { email: 'new.rep@plivo.test', role: 'rep' },
    });
    expect(invited.statusCode, invited.body).toBe(201);
    expect(invited.json()).toMatchObject({ invitationMailed: true });
    const mail = sink.received.find((m) => m.to.includes('new.rep@plivo.test'));
    expect(linkToken(mail?.data ?? '')).not.toBeNull();
    expect(await db.query('SELECT 1 FROM sandbox_mail')).toHaveLength(0);
  });
});

describe('a mail server that refuses', () => {
  it('answers the reset request exactly as for an unknown address, and logs the failure without the link', async () => {
    const db = await freshPglite();
    const sink = await smtpSink({ refuseWithBody: true });
    const { relay, lines } = await plivoRelay(db, sink.url);
    try {
      const { orgId } = await createOrg(db, 'Bounce Co');
      await createUser(db, {
        orgId,
        email: 'bounce@plivo.test',
        role: 'rep',
        password: PASSWORD,
        actor: 'test',
        now: new Date(Date.parse('2026-03-02T17:00:00Z')),
        publicUrl: 'https://relay.example.com',
      });
      const known = await relay.app.inject({
        method: 'POST',
        url: '/v1/auth/password-reset',
        payload: { email: 'bounce@plivo.test' },
      });
      const unknown = await relay.app.inject({
        method: 'POST',
        url: '/v1/auth/password-reset',
        payload: { email: 'nobody@plivo.test' },
      });
      expect(known.statusCode, known.body).toBe(202);
      expect(known.body).toBe(unknown.body);
      await eventually(async () => lines.join('').includes('mail delivery failed'));
      const token = linkToken(sink.received[0]?.data ?? '');
      expect(token).not.toBeNull();
      const log = lines.join('');
      expect(log).toContain('mail delivery failed');
      expect(log).not.toContain(token ?? '');
      expect(await db.query('SELECT 1 FROM sandbox_mail')).toHaveLength(0);
    } finally {
      await relay.close();
      await sink.close();
      await db.close();
    }
  });
});

describe('reset mail after the answer', () => {
  it('answers before a slow mail server has taken the mail, and closing the relay waits for it', async () => {
    const db = await freshPglite();
    const SLOW_MS = 1_500;
    const sink = await smtpSink({ acceptAfterMs: SLOW_MS });
    const { relay, lines } = await plivoRelay(db, sink.url);
    let open = true;
    try {
      const { orgId } = await createOrg(db, 'Slow Mail Co');
      await createUser(db, {
        orgId,
        email: 'slow@plivo.test',
        role: 'rep',
        password: PASSWORD,
        actor: 'test',
        now: new Date(Date.parse('2026-03-02T17:00:00Z')),
        publicUrl: 'https://relay.example.com',
      });
      const started = performance.now();
      const asked = await relay.app.inject({
        method: 'POST',
        url: '/v1/auth/password-reset',
        payload: { email: 'slow@plivo.test' },
      });
      const answeredAfterMs = performance.now() - started;
      expect(asked.statusCode, asked.body).toBe(202);
      // An existing account answers without waiting for the mail server, like an unknown one.
      expect(sink.received).toHaveLength(0);
      expect(answeredAfterMs).toBeLessThan(SLOW_MS);

      await relay.close();
      open = false;
      // Closing waited for the mail rather than dropping it.
      expect(sink.received.filter((m) => m.to.includes('slow@plivo.test'))).toHaveLength(1);
      expect(linkToken(sink.received[0]?.data ?? '')).not.toBeNull();
      expect(lines.join('')).not.toContain('mail delivery failed');
    } finally {
      if (open) await relay.close();
      await sink.close();
      await db.close();
    }
  }, 20_000);
});
