import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliSocketPath } from '../../server/cli/relay-socket.ts';
import { freePort, RelayProcess } from '../helpers/relay-process.ts';

// Issue #16, item 9: a newcomer adds a user with `npm run cli` while `npm start` runs on the default
// embedded database, and the links printed are on the running relay's port, not the default 8787.
const root = path.resolve(import.meta.dirname, '../..');
let dataDir: string;
let relay: RelayProcess;

/** `npm run cli -- …` as a separate process, in a shell that knows DATA_DIR but not the relay's PORT. */
function cli(args: string[], stdin = ''): Promise<{ code: number | null; out: string; err: string }> {
  const { PORT: _port, PUBLIC_URL: _publicUrl, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', ...args], {
    cwd: root,
    env: { ...env, DATABASE_URL: '', DATA_DIR: dataDir },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out, err })));
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-cli-beside-'));
  // A socket file left by a relay that was killed: the next relay replaces it.
  fs.writeFileSync(cliSocketPath(dataDir), 'stale');
  relay = new RelayProcess(await freePort(), { DATABASE_URL: '', DATA_DIR: dataDir });
  // Generous: the relay and each CLI process start under tsx, on a machine other tests share.
  await relay.start(120_000);
}, 150_000);

afterAll(async () => {
  await relay.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the CLI beside a running relay on embedded PGlite', { timeout: 90_000 }, () => {
  let orgId: string;

  it('listens for the CLI on a socket in the data directory that only its own user may open', () => {
    const stat = fs.statSync(cliSocketPath(dataDir));
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
  });

  it('creates an organisation and a user through the relay, printing the invite on the relay’s port', async () => {
    const org = await cli(['org', 'create', '--name', 'Acme Dental', '--json']);
    expect(org.code, org.err).toBe(0);
    orgId = JSON.parse(org.out).orgId;
    const user = await cli(['user', 'create', '--org', orgId, '--email', 'rep@acme.test', '--role', 'rep']);
    expect(user.code, user.err).toBe(0);
    expect(user.out).toContain('Created user rep@acme.test (rep)');
    const [link] = user.out.match(/https?:\/\/\S+/) ?? [];
    expect(new URL(link as string).origin).toBe(relay.url);
    expect(new URL(link as string).pathname).toBe('/auth/reset');
  });

  it('passes a password on stdin to the relay, and the user signs in with it', async () => {
    const created = await cli(
      ['user', 'create', '--org', orgId, '--email', 'admin@acme.test', '--role', 'admin', '--password-stdin'],
      'correct horse battery staple\n',
    );
    expect(created.code, created.err).toBe(0);
    const login = await fetch(`${relay.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@acme.test', password: 'correct horse battery staple' }),
    });
    expect(login.status).toBe(201);
  });

  it('runs read commands against the relay’s database', async () => {
    const settings = await cli(['org', 'settings', '--org', orgId, '--json']);
    expect(settings.code, settings.err).toBe(0);
    expect(JSON.parse(settings.out)).toMatchObject({ orgId });
    const status = await cli(['crm', 'status', '--org', orgId]);
    expect(status.code, status.err).toBe(0);
    expect(status.out).toContain('No CRM connected.');
  });

  it('returns the exit code and message of a command that fails inside the relay', async () => {
    const again = await cli(['user', 'create', '--org', orgId, '--email', 'rep@acme.test', '--role', 'rep']);
    expect(again.code).toBe(1);
    expect(again.err).toContain('Error: A user with this email already exists');
    const unknown = await cli([
      'number',
      'add',
      '--org',
      '00000000-0000-4000-8000-000000000000',
      '--e164',
      '+12025550100',
      '--json',
    ]);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.out).error.code).toBe('ORG_NOT_FOUND');
  });

  it('removes the socket when the relay stops, and the CLI then opens the database itself', async () => {
    await relay.stop();
    expect(fs.existsSync(cliSocketPath(dataDir))).toBe(false);
    const settings = await cli(['org', 'settings', '--org', orgId, '--json']);
    expect(settings.code, settings.err).toBe(0);
  });
});
