import { PassThrough } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { relayLogger } from '../../server/logging.ts';

// Issue #16, item 8: `npm start` in the sandbox printed a JSON line per request and its warnings
// as JSON; a person at a terminal reads lines, a log collector in production reads JSON.

/** What a relay logging with this environment prints for one request and one warning. */
async function printed(env: Record<string, string>): Promise<string> {
  const config = loadConfig(env, '/tmp');
  const destination = new PassThrough();
  let text = '';
  destination.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const app = Fastify({ logger: relayLogger(config, destination) });
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.ready();
  expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  app.log.warn('SECRETS_KEY is not set');
  await app.close();
  await new Promise((resolve) => setImmediate(resolve));
  return text;
}

describe('the relay’s console log', () => {
  it('prints readable warnings and no line per request in the sandbox', async () => {
    const text = await printed({ NODE_ENV: 'development' });
    expect(text).toMatch(/^\[\d{2}:\d{2}:\d{2}\] WARN: SECRETS_KEY is not set$/m);
    expect(text).not.toContain('incoming request');
    expect(text).not.toContain('{');
  });

  it('keeps JSON lines at info, requests included, with NODE_ENV=production', async () => {
    const lines = (await printed({ NODE_ENV: 'production' })).trim().split('\n');
    const records = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(records.map((r) => r.msg)).toEqual(
      expect.arrayContaining(['incoming request', 'request completed', 'SECRETS_KEY is not set']),
    );
  });

  it('lets LOG_LEVEL and LOG_FORMAT choose otherwise, and refuses unknown formats', async () => {
    const sandboxJson = await printed({ LOG_FORMAT: 'json', LOG_LEVEL: 'info' });
    expect(JSON.parse(sandboxJson.split('\n')[0] as string).msg).toBe('incoming request');
    const productionPretty = await printed({
      NODE_ENV: 'production',
      LOG_FORMAT: 'pretty',
      LOG_LEVEL: 'warn',
    });
    expect(productionPretty).toMatch(/WARN: SECRETS_KEY is not set/);
    expect(() => loadConfig({ LOG_FORMAT: 'xml' }, '/tmp')).toThrow(/LOG_FORMAT/);
  });
});
