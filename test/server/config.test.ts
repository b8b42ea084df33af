import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';

describe('configuration', () => {
  it('defaults to the sandbox on PGlite at 127.0.0.1:8787', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      dataDir: '/srv/app/data',
      databaseUrl: null,
      publicUrl: 'http://127.0.0.1:8787',
      smsProvider: 'sandbox',
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ PUBLIC_URL: 'ftp://relay' }, 'PUBLIC_URL'],
    [{ PUBLIC_URL: 'https://relay.example.com/?x=1' }, 'PUBLIC_URL'],
    [{ SMS_PROVIDER: 'twilio' }, 'SMS_PROVIDER'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ HOST: 'bad host!' }, 'HOST'],
  ])('stops on %j with one line naming %s', (env, variable) => {
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as Error).message.startsWith(`${variable}: `)).toBe(true);
    expect((caught as Error).message).not.toContain('\n');
  });

  const PLIVO = {
    SMS_PROVIDER: 'plivo',
    PLIVO_AUTH_ID: 'MAXXXXXXXXXXXXXXXXXX',
    PLIVO_AUTH_TOKEN: 'token',
    PUBLIC_URL: 'https://relay.example.com',
    SMTP_URL: 'smtp://127.0.0.1:1',
  };

  it('refuses to start in Plivo mode without SECRETS_KEY, saying how to make one', () => {
    let caught: unknown;
    try {
      loadConfig(PLIVO);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe('SECRETS_KEY');
    expect((caught as Error).message).toContain('SMS_PROVIDER=plivo');
    expect((caught as Error).message).toContain('openssl rand -base64 32');
  });

  it('reads SECRETS_KEY_PREVIOUS beside SECRETS_KEY, and refuses it alone or malformed', () => {
    const key = (n: number) => Buffer.alloc(32, n).toString('base64');
    const config = loadConfig({ SECRETS_KEY: key(1), SECRETS_KEY_PREVIOUS: `${key(2)},${key(3)}` });
    expect(config.secretsKeyPrevious).toEqual([Buffer.alloc(32, 2), Buffer.alloc(32, 3)]);
    expect(loadConfig({}).secretsKeyPrevious).toEqual([]);
    expect(() => loadConfig({ SECRETS_KEY_PREVIOUS: key(2) })).toThrow(/needs SECRETS_KEY/);
    expect(() => loadConfig({ SECRETS_KEY: key(1), SECRETS_KEY_PREVIOUS: `${key(2)},short` })).toThrow(
      /entry 2 must be 32 bytes/,
    );
  });

  it('starts in Plivo mode with SECRETS_KEY, and without the sandbox CRM', () => {
    const config = loadConfig({ ...PLIVO, SECRETS_KEY: Buffer.alloc(32, 1).toString('base64') });
    expect(config.secretsKey?.length).toBe(32);
    expect(config.crmProvider).toBeNull();
  });

  it('keeps the sandbox CRM in sandbox mode', () => {
    expect(loadConfig({}).crmProvider).toBe('sandbox');
  });

  it('refuses CRM_PROVIDER=sandbox in Plivo mode: demo contacts are not real customers', () => {
    expect(() =>
      loadConfig({ ...PLIVO, SECRETS_KEY: Buffer.alloc(32, 1).toString('base64'), CRM_PROVIDER: 'sandbox' }),
    ).toThrow(/^CRM_PROVIDER: /);
  });
});
