// @vitest-environment node
import { describe, expect, it } from 'vitest';
import {
  backgroundAccepts,
  contentScriptAccepts,
  parseAuthRefreshResponse,
  parseProtocolMessage,
  parseSsoStartResponse,
  type SenderInfo,
} from '../../extension/lib/messages/extension-messages.ts';

const self = { runtimeId: 'abcdefghijklmnop', origin: 'chrome-extension://abcdefghijklmnop/' };
const panel: SenderInfo = {
  id: self.runtimeId,
  url: 'chrome-extension://abcdefghijklmnop/panel.html#crm=hubspot&objectType=contact&id=1',
  tab: { id: 12 },
  frameId: 3,
};
const options: SenderInfo = { id: self.runtimeId, url: 'chrome-extension://abcdefghijklmnop/options.html' };
const contentScript: SenderInfo = {
  id: self.runtimeId,
  url: 'https://app.hubspot.com/contacts/1/record/0-1/2',
  tab: { id: 12 },
  frameId: 0,
};
const background: SenderInfo = {
  id: self.runtimeId,
  url: 'chrome-extension://abcdefghijklmnop/background.js',
};
const otherExtension: SenderInfo = {
  id: 'zzzzzzzzzzzzzzzz',
  url: 'chrome-extension://zzzzzzzzzzzzzzzz/panel.html',
  tab: { id: 12 },
};

describe('protocol messages', () => {
  it('accepts the exact shapes', () => {
    expect(parseProtocolMessage({ type: 'open-options' })).toEqual({ type: 'open-options' });
    expect(parseProtocolMessage({ type: 'panel-state', status: 'ready', inboundCount: 2 })).toEqual({
      type: 'panel-state',
      status: 'ready',
      inboundCount: 2,
    });
  });

  it.each([
    null,
    'open-options',
    [],
    {},
    { type: 'unknown' },
    { type: 'open-options', url: 'https://evil.example' },
    { type: 'panel-state', status: 'ready' },
    { type: 'panel-state', status: 'hacked', inboundCount: 0 },
    { type: 'panel-state', status: 'ready', inboundCount: -1 },
    { type: 'panel-state', status: 'ready', inboundCount: 1.5 },
    { type: 'panel-state', status: 'ready', inboundCount: '3' },
    { type: 'panel-state', status: 'ready', inboundCount: 1, extra: true },
  ])('rejects %j', (value) => {
    expect(parseProtocolMessage(value)).toBeNull();
  });
});

describe('sender checks', () => {
  const openOptions = { type: 'open-options' } as const;
  const state = { type: 'panel-state', status: 'ready', inboundCount: 0 } as const;

  it('lets extension pages open the options page and the inbox, never a content script', () => {
    expect(backgroundAccepts(openOptions, panel, self)).toBe(true);
    expect(backgroundAccepts(openOptions, options, self)).toBe(true);
    const openInbox = { type: 'open-inbox' } as const;
    expect(parseProtocolMessage({ type: 'open-inbox' })).toEqual(openInbox);
    expect(parseProtocolMessage({ type: 'open-inbox', url: 'https://evil.example' })).toBeNull();
    expect(backgroundAccepts(openInbox, panel, self)).toBe(true);
    expect(backgroundAccepts(openInbox, contentScript, self)).toBe(false);
    expect(backgroundAccepts(openInbox, otherExtension, self)).toBe(false);
  });

  it('refuses content scripts, other extensions and senders without a URL', () => {
    expect(backgroundAccepts(openOptions, contentScript, self)).toBe(false);
    expect(backgroundAccepts(openOptions, otherExtension, self)).toBe(false);
    expect(backgroundAccepts(openOptions, { id: self.runtimeId }, self)).toBe(false);
    expect(backgroundAccepts(openOptions, { id: self.runtimeId, url: 'not a url' }, self)).toBe(false);
  });

  it('accepts panel-state only from the panel page inside a tab', () => {
    expect(backgroundAccepts(state, panel, self)).toBe(true);
    expect(backgroundAccepts(state, { ...panel, tab: undefined }, self)).toBe(false);
    expect(backgroundAccepts(state, { ...options, tab: { id: 1 } }, self)).toBe(false);
    expect(backgroundAccepts(state, contentScript, self)).toBe(false);
    expect(backgroundAccepts(state, otherExtension, self)).toBe(false);
  });

  it('lets the content script accept panel-state only when relayed by our background', () => {
    expect(contentScriptAccepts(state, background, self)).toBe(true);
    expect(contentScriptAccepts(state, panel, self)).toBe(false);
    expect(contentScriptAccepts(state, contentScript, self)).toBe(false);
    expect(contentScriptAccepts(state, { ...background, id: 'zzzzzzzzzzzzzzzz' }, self)).toBe(false);
    expect(contentScriptAccepts(openOptions, background, self)).toBe(false);
  });
});

describe('auth-refresh message', () => {
  const message = { type: 'auth-refresh', staleAccessToken: 'access-token-1' } as const;

  it('accepts the exact shape', () => {
    expect(parseProtocolMessage(message)).toEqual(message);
  });

  it.each([
    { type: 'auth-refresh' },
    { type: 'auth-refresh', staleAccessToken: '' },
    { type: 'auth-refresh', staleAccessToken: 42 },
    { type: 'auth-refresh', staleAccessToken: 'has space' },
    { type: 'auth-refresh', staleAccessToken: 'x'.repeat(513) },
    { type: 'auth-refresh', staleAccessToken: 'ok', refreshToken: 'steal-me' },
  ])('rejects %j', (value) => {
    expect(parseProtocolMessage(value)).toBeNull();
  });

  it('is accepted from the panel in a tab and from the options page only', () => {
    expect(backgroundAccepts(message, panel, self)).toBe(true);
    expect(backgroundAccepts(message, options, self)).toBe(true);
    expect(backgroundAccepts(message, { ...panel, tab: undefined }, self)).toBe(false);
    expect(backgroundAccepts(message, contentScript, self)).toBe(false);
    expect(backgroundAccepts(message, background, self)).toBe(false);
    expect(backgroundAccepts(message, otherExtension, self)).toBe(false);
    expect(contentScriptAccepts(message, background, self)).toBe(false);
  });

  it('validates the background answer', () => {
    expect(parseAuthRefreshResponse({ ok: true, accessToken: 'access-2' })).toEqual({
      ok: true,
      accessToken: 'access-2',
    });
    expect(parseAuthRefreshResponse({ ok: true })).toEqual({ ok: false, signedOut: false });
    expect(parseAuthRefreshResponse({ ok: false, signedOut: true })).toEqual({ ok: false, signedOut: true });
    expect(parseAuthRefreshResponse(undefined)).toEqual({ ok: false, signedOut: false });
    expect(parseAuthRefreshResponse({ ok: true, accessToken: 'bad token' })).toEqual({
      ok: false,
      signedOut: false,
    });
    expect(parseAuthRefreshResponse({ ok: true, accessToken: 'a', extra: 1 })).toEqual({
      ok: false,
      signedOut: false,
    });
  });
});

describe('sso-start and sso-cancel messages', () => {
  const ORG = '123e4567-e89b-12d3-a456-426614174000';
  const start = { type: 'sso-start', relayUrl: 'https://relay.example.com', orgId: ORG } as const;
  const cancel = { type: 'sso-cancel' } as const;

  it('accepts the exact shapes', () => {
    expect(parseProtocolMessage(start)).toEqual(start);
    expect(parseProtocolMessage({ ...start, relayUrl: 'http://127.0.0.1:8787/texting' })).toEqual({
      ...start,
      relayUrl: 'http://127.0.0.1:8787/texting',
    });
    expect(parseProtocolMessage(cancel)).toEqual(cancel);
  });

  it.each([
    { type: 'sso-start', relayUrl: 'https://relay.example.com' },
    { type: 'sso-start', orgId: ORG },
    { ...start, orgId: 'acme' },
    { ...start, orgId: ORG.toUpperCase() },
    { ...start, orgId: `${ORG}/../../evil` },
    { ...start, relayUrl: 'https://relay.example.com/' },
    { ...start, relayUrl: 'https://relay.example.com?next=x' },
    { ...start, relayUrl: 'https://relay.example.com#x' },
    { ...start, relayUrl: 'https://user:pw@relay.example.com' },
    { ...start, relayUrl: 'javascript:alert(1)' },
    { ...start, relayUrl: 'file:///etc/passwd' },
    { ...start, relayUrl: 'relay.example.com' },
    { ...start, relayUrl: 42 },
    { ...start, loginUrl: 'https://evil.example/login' },
    { type: 'sso-cancel', attemptId: 'x' },
  ])('rejects %j', (value) => {
    expect(parseProtocolMessage(value)).toBeNull();
  });

  it('is accepted from the options page only', () => {
    for (const message of [start, cancel]) {
      expect(backgroundAccepts(message, options, self)).toBe(true);
      expect(backgroundAccepts(message, { ...options, tab: { id: 4 } }, self)).toBe(true);
      expect(backgroundAccepts(message, panel, self)).toBe(false);
      expect(backgroundAccepts(message, contentScript, self)).toBe(false);
      expect(backgroundAccepts(message, background, self)).toBe(false);
      expect(backgroundAccepts(message, otherExtension, self)).toBe(false);
      expect(backgroundAccepts(message, { ...otherExtension, url: options.url }, self)).toBe(false);
      expect(contentScriptAccepts(message, background, self)).toBe(false);
    }
  });

  it('validates the background answer to sso-start', () => {
    expect(parseSsoStartResponse({ ok: true, attemptId: 'a-1' })).toEqual({ ok: true, attemptId: 'a-1' });
    expect(parseSsoStartResponse({ ok: false, message: 'No permission' })).toEqual({
      ok: false,
      message: 'No permission',
    });
    for (const bad of [undefined, null, { ok: true }, { ok: true, attemptId: '' }, { ok: false }]) {
      expect(parseSsoStartResponse(bad)).toMatchObject({
        ok: false,
        message: expect.stringMatching(/Reload/),
      });
    }
  });
});
