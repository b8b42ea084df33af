import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../server/cli/main.ts';
import { openPglite } from '../../server/db/pglite.ts';
import { cli } from '../helpers/cli.ts';

let dataDir: string;
const savedEnv = { ...process.env };

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-cli-'));
  process.env.DATA_DIR = dataDir;
  delete process.env.DATABASE_URL;
});
afterAll(() => {
  process.env = savedEnv;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('admin CLI', () => {
  let orgId: string;

  it('creates an org and prints {"orgId"} with --json', async () => {
    const result = await cli('org', 'create', '--name', 'Acme Dental', '--json');
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.out);
    expect(Object.keys(parsed)).toEqual(['orgId']);
    orgId = parsed.orgId;
  });

  it('creates an API key shown once and prints {"key"}', async () => {
    const result = await cli('apikey', 'create', '--org', orgId, '--role', 'rep', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out).key).toMatch(/^ctk_/);
  });

  it('rotates an org’s data key and reports it: keys status, keys rotate, a clear refusal for a bad id', async () => {
    const before = await cli('keys', 'status', '--org', orgId, '--json');
    expect(before.code, before.out).toBe(0);
    const first = JSON.parse(before.out).keys[0];
    const rotated = await cli('keys', 'rotate', '--org', orgId, '--json');
    expect(rotated.code, rotated.out).toBe(0);
    expect(JSON.parse(rotated.out).rotated).toEqual([{ orgId, keyNo: (first.activeKey ?? 0) + 1 }]);
    const after = await cli('keys', 'status', '--org', orgId);
    expect(after.out).toMatch(
      new RegExp(`data key ${(first.activeKey ?? 0) + 1} active since .*re-sealing pending`),
    );
    const bad = await cli('keys', 'rotate', '--org', 'not-an-id', '--json');
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.out).error.code).toBe('USAGE');
  });

  it('lists texts to numbers nobody owns, opened, and refuses a bad limit', async () => {
    const none = await cli('unassigned', 'list', '--json');
    expect(none.code, none.out).toBe(0);
    expect(JSON.parse(none.out).texts).toEqual([]);
    const bad = await cli('unassigned', 'list', '--limit', '0', '--json');
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.out).error.message).toMatch(/--limit must be a whole number from 1 to 1000/);
  });

  it('adds a sender number and refuses it twice', async () => {
    const first = await cli('number', 'add', '--org', orgId, '--e164', '+15551234567', '--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out)).toMatchObject({ e164: '+15551234567' });
    const again = await cli('number', 'add', '--org', orgId, '--e164', '+15551234567', '--json');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out).error.code).toBe('NUMBER_TAKEN');
  });

  it("adds a sender number written nationally, read in the org's default country", async () => {
    const us = await cli('number', 'add', '--org', orgId, '--number', '(202) 555-0143', '--json');
    expect(us.code, us.out).toBe(0);
    expect(JSON.parse(us.out)).toMatchObject({ e164: '+12025550143' });
    const bad = await cli('number', 'add', '--org', orgId, '--number', '555-01', '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).error).toMatchObject({
      code: 'INVALID_PHONE_NUMBER',
      message: expect.stringContaining('Enter a phone number like 202-555-0143 or +44 20 7946 0958.'),
    });
    const set = await cli('org', 'settings', '--org', orgId, '--set', 'defaultCountry', '--value', 'GB');
    expect(set.code, set.out).toBe(0);
    const uk = await cli('number', 'add', '--org', orgId, '--number', '020 7946 0958', '--json');
    expect(JSON.parse(uk.out)).toMatchObject({ e164: '+442079460958' });
    expect((await cli('org', 'settings', '--org', orgId, '--clear', 'defaultCountry')).code).toBe(0);
  });

  it('explains bad input with a stable code and a non-zero exit', async () => {
    const role = await cli('apikey', 'create', '--org', orgId, '--role', 'god', '--json');
    expect(role.code).toBe(2);
    expect(JSON.parse(role.out).error.code).toBe('USAGE');
    const unknownOrg = await cli(
      'number',
      'add',
      '--org',
      '00000000-0000-4000-8000-000000000000',
      '--e164',
      '+12025550100',
      '--json',
    );
    expect(JSON.parse(unknownOrg.out).error.code).toBe('ORG_NOT_FOUND');
    const missing = await cli('org', 'create');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--name is required');
  });

  it('has --help on every command', async () => {
    for (const command of [['org', 'create'], ['apikey', 'create'], ['number', 'add'], ['migrate']]) {
      const result = await cli(...command, '--help');
      expect(result.code).toBe(0);
      expect(result.out).toContain('Usage: npm run cli --');
    }
    expect((await cli('--help')).out).toContain('Commands:');
    // Every name stands apart from its summary, the longest too.
    expect((await cli('--help')).out).toMatch(/ {2}crm oauth-url salesforce {2}Print the Salesforce/);
  });

  it('sets, shows and clears an org setting, refusing unknown names and wrong types', async () => {
    const set = await cli(
      'org',
      'settings',
      '--org',
      orgId,
      '--set',
      'doubleOptIn',
      '--value',
      'true',
      '--json',
    );
    expect(set.code).toBe(0);
    expect(JSON.parse(set.out).settings).toMatchObject({ doubleOptIn: true });
    const wrongType = await cli(
      'org',
      'settings',
      '--org',
      orgId,
      '--set',
      'doubleOptIn',
      '--value',
      'maybe',
      '--json',
    );
    expect(JSON.parse(wrongType.out).error.code).toBe('INVALID_SETTING');
    const unknown = await cli(
      'org',
      'settings',
      '--org',
      orgId,
      '--set',
      'texting',
      '--value',
      'on',
      '--json',
    );
    expect(JSON.parse(unknown.out).error.code).toBe('UNKNOWN_SETTING');
    const cleared = await cli('org', 'settings', '--org', orgId, '--clear', 'doubleOptIn', '--json');
    expect(JSON.parse(cleared.out).settings).not.toHaveProperty('doubleOptIn');
  });

  it('sets message templates and the notification lock for the extension, refusing bad ones by name', async () => {
    const help = await cli('org', 'settings', '--help');
    expect(help.out).toContain('messageTemplates');
    expect(help.out).toContain('{{firstName}}');
    expect(help.out).toContain('extensionNotifications --value off|mine|all');
    const settings = (...args: string[]) => cli('org', 'settings', '--org', orgId, ...args, '--json');
    const templates = [{ name: 'Reminder', body: 'Hi {{firstName}}, see you at 10. {{repName}}' }];
    const set = await settings('--set', 'messageTemplates', '--value', JSON.stringify(templates));
    expect(set.code, set.out).toBe(0);
    expect(JSON.parse(set.out).settings).toMatchObject({ messageTemplates: templates });
    const locked = await settings('--set', 'extensionNotifications', '--value', 'mine');
    expect(JSON.parse(locked.out).settings).toMatchObject({ extensionNotifications: 'mine' });

    const unknownField = await settings(
      '--set',
      'messageTemplates',
      '--value',
      JSON.stringify([{ name: 'Nick', body: 'Hi {{nickname}}' }]),
    );
    expect(unknownField.code).toBe(1);
    expect(JSON.parse(unknownField.out).error).toMatchObject({ code: 'INVALID_SETTING' });
    expect(JSON.parse(unknownField.out).error.message).toContain('{{nickname}}');
    const notJson = await cli(
      'org',
      'settings',
      '--org',
      orgId,
      '--set',
      'messageTemplates',
      '--value',
      '[{',
    );
    expect(notJson.code).toBe(1);
    expect(notJson.err).toContain('messageTemplates must be a JSON array');
    const badLock = await settings('--set', 'extensionNotifications', '--value', 'sometimes');
    expect(JSON.parse(badLock.out).error.code).toBe('INVALID_SETTING');
    const after = await cli('org', 'settings', '--org', orgId, '--json');
    expect(JSON.parse(after.out).settings).toMatchObject({
      messageTemplates: templates,
      extensionNotifications: 'mine',
    });
  });

  it('creates users (password from stdin, or an invite link), custom roles, and deactivates users', async () => {
    const withStdin = async (stdin: string, ...args: string[]) => {
      let out = '';
      const code = await runCli(
        args,
        (s) => {
          out += `${s}\n`;
        },
        () => undefined,
        (async function* () {
          yield stdin;
        })(),
      );
      return { code, out };
    };
    for (const command of [
      ['user', 'create'],
      ['user', 'deactivate'],
      ['role', 'create'],
    ]) {
      const help = await cli(...command, '--help');
      expect(help.code).toBe(0);
      expect(help.out).toContain(`Usage: npm run cli -- ${command.join(' ')}`);
    }
    const role = await cli(
      'role',
      'create',
      '--org',
      orgId,
      '--name',
      'front_desk',
      '--permissions',
      'conversations.view,messages.send',
      '--json',
    );
    expect(role.code, role.out).toBe(0);
    expect(JSON.parse(role.out)).toMatchObject({
      name: 'front_desk',
      permissions: ['conversations.view', 'messages.send'],
    });
    const again = await cli(
      'role',
      'create',
      '--org',
      orgId,
      '--name',
      'front_desk',
      '--permissions',
      'export',
      '--json',
    );
    expect(JSON.parse(again.out).error.code).toBe('ROLE_EXISTS');
    const unknown = await cli(
      'role',
      'create',
      '--org',
      orgId,
      '--name',
      'odd',
      '--permissions',
      'root',
      '--json',
    );
    expect(JSON.parse(unknown.out).error.code).toBe('UNKNOWN_PERMISSION');

    const weak = await withStdin(
      'password1234\n',
      'user',
      'create',
      '--org',
      orgId,
      '--email',
      'weak@acme.test',
      '--role',
      'rep',
      '--password-stdin',
      '--json',
    );
    expect(weak.code).toBe(1);
    expect(JSON.parse(weak.out).error.code).toBe('COMMON_PASSWORD');
    const withPassword = await withStdin(
      'correct horse battery staple\n',
      'user',
      'create',
      '--org',
      orgId,
      '--email',
      'Desk@Acme.test',
      '--role',
      'front_desk',
      '--password-stdin',
      '--json',
    );
    expect(withPassword.code, withPassword.out).toBe(0);
    expect(JSON.parse(withPassword.out)).toMatchObject({ email: 'desk@acme.test', role: 'front_desk' });
    // No relay runs: the link is where a relay started with this environment would listen.
    process.env.PORT = '8801';
    const invited = await cli(
      'user',
      'create',
      '--org',
      orgId,
      '--email',
      'new@acme.test',
      '--role',
      'manager',
      '--json',
    ).finally(() => delete process.env.PORT);
    expect(invited.code, invited.out).toBe(0);
    expect(JSON.parse(invited.out).inviteLink).toMatch(
      /^http:\/\/127\.0\.0\.1:8801\/auth\/reset\?token=[A-Za-z0-9_-]+$/,
    );
    const duplicate = await cli(
      'user',
      'create',
      '--org',
      orgId,
      '--email',
      'new@acme.test',
      '--role',
      'rep',
      '--json',
    );
    expect(JSON.parse(duplicate.out).error.code).toBe('USER_EXISTS');
    const badRole = await cli(
      'user',
      'create',
      '--org',
      orgId,
      '--email',
      'x@acme.test',
      '--role',
      'nobody',
      '--json',
    );
    expect(JSON.parse(badRole.out).error.code).toBe('UNKNOWN_ROLE');

    const deactivated = await cli(
      'user',
      'deactivate',
      '--org',
      orgId,
      '--email',
      'desk@acme.test',
      '--json',
    );
    expect(deactivated.code, deactivated.out).toBe(0);
    expect(JSON.parse(deactivated.out)).toMatchObject({ status: 'deactivated' });
    const missing = await cli('user', 'deactivate', '--org', orgId, '--email', 'ghost@acme.test', '--json');
    expect(JSON.parse(missing.out).error.code).toBe('USER_NOT_FOUND');

    const db = await openPglite({ dataDir });
    try {
      const users = await db.query<{ email: string; status: string; has_password: boolean }>(
        'SELECT email, status, password_hash IS NOT NULL AS has_password FROM users ORDER BY email',
      );
      expect(users).toEqual([
        { email: 'desk@acme.test', status: 'deactivated', has_password: true },
        { email: 'new@acme.test', status: 'active', has_password: false },
      ]);
      const events = await db.query<{ kind: string }>(
        `SELECT kind FROM auth_events WHERE actor = 'cli' ORDER BY id`,
      );
      expect(events.map((e) => e.kind)).toEqual([
        'role_created',
        'user_created',
        'user_created',
        'deactivated',
      ]);
    } finally {
      await db.close();
    }
  });

  it('warns when HubSpot is connected without its portal id, whose webhooks could then not be matched', async () => {
    process.env.SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');
    try {
      const connect = (...extra: string[]) =>
        cli('crm', 'connect', 'hubspot', '--org', orgId, '--token', 'pat-na1-test', '--json', ...extra);
      const bare = await connect();
      expect(bare.code, bare.out).toBe(0);
      expect(bare.err).toContain('Warning: without --portal-id, HubSpot webhooks');
      const named = await connect('--portal-id', '62515');
      expect(named.code, named.out).toBe(0);
      expect(named.err).not.toContain('--portal-id');
    } finally {
      delete process.env.SECRETS_KEY;
    }
  });

  it("connects a sandbox relay's own demo CRM, so payment requests reach its record pages", async () => {
    const connected = await cli('crm', 'connect', 'sandbox', '--org', orgId, '--json');
    expect(connected.code, connected.out).toBe(0);
    expect(JSON.parse(connected.out)).toMatchObject({ orgId, crm: 'sandbox', status: 'active' });
    const again = await cli('crm', 'connect', 'sandbox', '--org', orgId, '--json');
    expect(JSON.parse(again.out).connectionId).toBe(JSON.parse(connected.out).connectionId);
  });

  it('migrates idempotently', async () => {
    const result = await cli('migrate', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out).applied).toEqual([]);
  });

  it('says clearly when a running server holds the embedded database', async () => {
    const held = await openPglite({ dataDir });
    try {
      // The lock records a pid; pretend another live process (our parent) holds it.
      fs.writeFileSync(path.join(dataDir, 'relay.lock'), String(process.ppid));
      const result = await cli('org', 'create', '--name', 'Blocked', '--json');
      expect(result.code).toBe(1);
      const error = JSON.parse(result.out).error;
      expect(error.code).toBe('DATABASE_BUSY');
      expect(error.message).toMatch(/held by process \d+/);
    } finally {
      fs.writeFileSync(path.join(dataDir, 'relay.lock'), String(process.pid));
      await held.close();
    }
  });
});
