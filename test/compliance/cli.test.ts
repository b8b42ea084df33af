import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../server/cli/main.ts';

let dataDir: string;
const savedEnv = { ...process.env };

beforeAll(() => {
  dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compliance-cli-')), 'never-created');
  process.env.DATA_DIR = dataDir;
  delete process.env.DATABASE_URL;
});
afterAll(() => {
  process.env = savedEnv;
  fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
});

async function cli(args: string[], stdin: Array<string | Uint8Array>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    args,
    (s) => out.push(s),
    (s) => err.push(s),
    Readable.from(stdin),
  );
  return { code, lines: out.map((l) => JSON.parse(l) as Record<string, unknown>), err };
}

describe('compliance CLI', () => {
  it('classifies each JSON line of stdin', async () => {
    const result = await cli(
      ['compliance', 'classify'],
      ['{"text": "STOP please"}\n{"text": "stop by at 3?"}\n', '{"text": "yes", "currentlyOptedOut": true}'],
    );
    expect(result.code).toBe(0);
    expect(result.lines.map((l) => l.label)).toEqual(['opt_out', 'normal', 'opt_in']);
    expect(result.lines[0]).toEqual({ label: 'opt_out', reason: expect.any(String) });
  });

  it('scans and redacts each JSON line of stdin', async () => {
    const result = await cli(['compliance', 'scan'], ['{"text": "card 4242 4242 4242 4242"}\n']);
    expect(result.lines).toEqual([
      { findings: [{ kind: 'card', start: 5, end: 24 }], redacted: 'card [card •••• 4242 (Visa)]' },
    ]);
  });

  it('answers a bad line with an error line and carries on', async () => {
    const result = await cli(['compliance', 'scan'], ['not json\n[1, 2]\n{"text": 42}\n\n{"text": "ok"}\n']);
    expect(result.code).toBe(0);
    expect(result.lines.map((l) => (l.error as { code?: string } | undefined)?.code ?? 'ok')).toEqual([
      'INVALID_JSON',
      'INVALID_INPUT',
      'INVALID_INPUT',
      'ok',
    ]);
  });

  it('decodes UTF-8 split across chunks', async () => {
    const bytes = new TextEncoder().encode('{"text": "arrête"}\n');
    const result = await cli(['compliance', 'classify'], [bytes.slice(0, 14), bytes.slice(14)]);
    expect(result.lines[0]?.label).toBe('opt_out');
  });

  it('runs without opening the database', async () => {
    await cli(['compliance', 'classify'], ['{"text": "hi"}\n']);
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});
