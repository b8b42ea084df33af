// @vitest-environment node
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type SettingsSource, serveSettingsPort } from '../../extension/lib/background/settings-port.ts';
import type { SenderInfo } from '../../extension/lib/messages/extension-messages.ts';
import {
  backgroundAcceptsSettingsPort,
  PANEL_SETTINGS_PORT,
  parseSettingsChannelMessage,
  type SettingsPort,
} from '../../extension/lib/messages/settings-channel.ts';
import { type PanelSettings, panelSettingsOf, type Settings } from '../../extension/lib/settings.ts';
import { SettingsClient } from '../../extension/lib/settings-client.ts';
import { fakePort } from './fixtures.ts';

const self = { runtimeId: 'abcdefghijklmnop', origin: 'chrome-extension://abcdefghijklmnop/' };
const panel: SenderInfo = {
  id: self.runtimeId,
  url: 'chrome-extension://abcdefghijklmnop/panel.html#crm=hubspot&objectType=contact&id=1',
  tab: { id: 12 },
  frameId: 3,
};
const contentScript: SenderInfo = {
  id: self.runtimeId,
  url: 'https://app.hubspot.com/contacts/1/record/0-1/2',
  tab: { id: 12 },
  frameId: 0,
};
const otherExtension: SenderInfo = {
  id: 'zzzzzzzzzzzzzzzz',
  url: 'chrome-extension://zzzzzzzzzzzzzzzz/panel.html',
  tab: { id: 12 },
};
const panelOutsideTab: SenderInfo = {
  id: self.runtimeId,
  url: 'chrome-extension://abcdefghijklmnop/panel.html',
};
const optionsPage: SenderInfo = {
  id: self.runtimeId,
  url: 'chrome-extension://abcdefghijklmnop/options.html',
};

const RELAY = 'https://relay.example';
const settings: Settings = {
  relayUrl: RELAY,
  apiKey: null,
  session: {
    relayUrl: RELAY,
    email: 'ada@example.com',
    accessToken: 'access-1',
    refreshToken: 'refresh-1',
    expiresAt: 1_800_000_000_000,
    // As `loadSettings` reads a session: with the org's word on keeping it across restarts.
    keepSignedIn: true,
  },
  signedOut: false,
  relayUrlLocked: false,
};

/** What the panel gets of them: never the refresh token, which only the background spends. */
const panelSettings: PanelSettings = panelSettingsOf(settings);

function source(load: () => Promise<Settings> = async () => settings) {
  const watchers: Array<{ signal: AbortSignal; onChange: () => void }> = [];
  const src: SettingsSource & { change(): void; watchers: typeof watchers } = {
    load: vi.fn(load),
    watch: (signal, onChange) => watchers.push({ signal, onChange }),
    change: () => {
      for (const w of watchers) if (!w.signal.aborted) w.onChange();
    },
    watchers,
  };
  return src;
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('settings channel messages', () => {
  it('accepts the exact shapes', () => {
    expect(parseSettingsChannelMessage({ type: 'settings', settings: panelSettings })).toEqual({
      type: 'settings',
      settings: panelSettings,
    });
    const apiKeyOnly = { ...panelSettings, apiKey: 'key-1', session: null };
    expect(parseSettingsChannelMessage({ type: 'settings', settings: apiKeyOnly })).toEqual({
      type: 'settings',
      settings: apiKeyOnly,
    });
    expect(parseSettingsChannelMessage({ type: 'settings-unavailable', message: 'boom' })).toEqual({
      type: 'settings-unavailable',
      message: 'boom',
    });
  });

  it.each([
    null,
    'settings',
    {},
    { type: 'settings' },
    { type: 'settings', settings: panelSettings, extra: 1 },
    { type: 'settings', settings: { ...panelSettings, extra: 1 } },
    { type: 'settings', settings: { ...panelSettings, relayUrl: 'javascript:alert(1)' } },
    { type: 'settings', settings: { ...panelSettings, relayUrl: `${RELAY}/` } },
    { type: 'settings', settings: { ...panelSettings, apiKey: '' } },
    { type: 'settings', settings: { ...panelSettings, apiKey: 42 } },
    { type: 'settings', settings: { ...panelSettings, signedOut: 'no' } },
    { type: 'settings', settings: { ...panelSettings, relayUrlLocked: undefined } },
    { type: 'settings', settings: { ...panelSettings, session: { ...panelSettings.session, extra: 1 } } },
    {
      type: 'settings',
      settings: { ...panelSettings, session: { ...panelSettings.session, accessToken: 'has space' } },
    },
    // A session issued by another relay must never be handed over with this relay's URL.
    {
      type: 'settings',
      settings: { ...panelSettings, session: { ...panelSettings.session, relayUrl: 'https://evil.example' } },
    },
    // A session with its refresh token: the panel never takes one, whoever posts it.
    { type: 'settings', settings },
    { type: 'settings-unavailable', message: '' },
    { type: 'settings-unavailable', message: 1 },
    { type: 'open-options' },
  ])('rejects %j', (value) => {
    expect(parseSettingsChannelMessage(value)).toBeNull();
  });
});

describe('settings channel sender checks', () => {
  it('serves only the panel page framed in a tab, and the inbox (popup or tab)', () => {
    expect(backgroundAcceptsSettingsPort(fakePort(PANEL_SETTINGS_PORT, panel), self)).toBe(true);
    expect(backgroundAcceptsSettingsPort(fakePort('other', panel), self)).toBe(false);
    const inbox = { id: self.runtimeId, url: `${self.origin}popup.html` };
    expect(backgroundAcceptsSettingsPort(fakePort(PANEL_SETTINGS_PORT, inbox), self)).toBe(true);
    expect(
      backgroundAcceptsSettingsPort(fakePort(PANEL_SETTINGS_PORT, { ...inbox, tab: { id: 3 } }), self),
    ).toBe(true);
    // A CRM page naming the inbox in its own URL is still a content script's sender.
    const spoof = { id: self.runtimeId, url: 'https://app.hubspot.com/popup.html', tab: { id: 3 } };
    expect(backgroundAcceptsSettingsPort(fakePort(PANEL_SETTINGS_PORT, spoof), self)).toBe(false);
  });

  it.each([
    ['a content script', contentScript],
    ['another extension', otherExtension],
    ['the panel page outside a tab', panelOutsideTab],
    ['the options page', optionsPage],
    ['an unknown sender', undefined],
  ])('refuses %s: disconnected, nothing read or posted', (_, sender) => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const port = fakePort(PANEL_SETTINGS_PORT, sender);
    const src = source();
    expect(serveSettingsPort(port, self, src)).toBe(true);
    expect(port.disconnected).toBe(true);
    expect(src.load).not.toHaveBeenCalled();
    expect(src.watchers).toHaveLength(0);
    expect(port.posted).toEqual([]);
  });

  it("leaves other channels' ports alone", () => {
    const port = fakePort('sso', contentScript);
    expect(serveSettingsPort(port, self, source())).toBe(false);
    expect(port.disconnected).toBe(false);
  });
});

describe('background settings port', () => {
  it('posts the settings at once and after every change, until the panel disconnects', async () => {
    const port = fakePort(PANEL_SETTINGS_PORT, panel);
    const src = source();
    serveSettingsPort(port, self, src);
    await vi.waitFor(() => expect(port.posted).toEqual([{ type: 'settings', settings: panelSettings }]));
    // The stored session has a refresh token; nothing posted to the panel does.
    expect(JSON.stringify(port.posted)).not.toContain(settings.session?.refreshToken);
    src.change();
    await vi.waitFor(() => expect(port.posted).toHaveLength(2));
    port.drop();
    src.change();
    await Promise.resolve();
    expect(src.load).toHaveBeenCalledTimes(2);
    expect(port.posted).toHaveLength(2);
  });

  it('posts in order even when an earlier read is slower', async () => {
    let calls = 0;
    const src = source(async () => {
      calls += 1;
      const relayUrlLocked = calls === 1;
      if (calls === 1) await new Promise((r) => setTimeout(r, 20));
      return { ...settings, relayUrlLocked };
    });
    const port = fakePort(PANEL_SETTINGS_PORT, panel);
    serveSettingsPort(port, self, src);
    src.change();
    await vi.waitFor(() => expect(port.posted).toHaveLength(2));
    const locked = port.posted.map((m) => (m as { settings: Settings }).settings.relayUrlLocked);
    expect(locked).toEqual([true, false]);
  });

  it('says so when the settings cannot be read', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const port = fakePort(PANEL_SETTINGS_PORT, panel);
    serveSettingsPort(
      port,
      self,
      source(async () => {
        throw new Error('storage broke');
      }),
    );
    await vi.waitFor(() => expect(port.posted).toHaveLength(1));
    const message = parseSettingsChannelMessage(port.posted[0]);
    expect(message?.type).toBe('settings-unavailable');
  });
});

describe('panel settings client', () => {
  function clientWith(connect: () => SettingsPort) {
    const onSettings = vi.fn();
    const onError = vi.fn();
    const client = new SettingsClient({ connect, onSettings, onError });
    return { client, onSettings, onError };
  }

  it('hands on settings and reconnects with a backoff when the port drops', async () => {
    vi.useFakeTimers();
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const ports: Array<ReturnType<typeof fakePort>> = [];
    const connect = vi.fn(() => {
      const port = fakePort(PANEL_SETTINGS_PORT);
      ports.push(port);
      return port;
    });
    const { client, onSettings } = clientWith(connect);
    client.start();
    ports[0]?.receive({ type: 'settings', settings: panelSettings });
    expect(onSettings).toHaveBeenCalledWith(panelSettings);

    ports[0]?.drop();
    expect(connect).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(connect).toHaveBeenCalledTimes(2);
    // Dropped again before any settings came: the next wait is longer.
    ports[1]?.drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(connect).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(connect).toHaveBeenCalledTimes(3);
    const signedOut = { ...panelSettings, session: null, signedOut: true };
    ports[2]?.receive({ type: 'settings', settings: signedOut });
    expect(onSettings).toHaveBeenLastCalledWith(signedOut);
    client.stop();
  });

  it('retries when the background cannot be reached at all', async () => {
    vi.useFakeTimers();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    let attempts = 0;
    const { client, onSettings } = clientWith(() => {
      attempts += 1;
      if (attempts === 1) throw new Error('Extension context invalidated');
      const port = fakePort(PANEL_SETTINGS_PORT);
      queueMicrotask(() => port.receive({ type: 'settings', settings: panelSettings }));
      return port;
    });
    client.start();
    expect(warn).toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(100);
    expect(onSettings).toHaveBeenCalledWith(panelSettings);
    client.stop();
  });

  it('ignores malformed messages and messages on a port it left', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const port = fakePort(PANEL_SETTINGS_PORT);
    const { client, onSettings, onError } = clientWith(() => port);
    client.start();
    port.receive({ type: 'settings', settings: { ...panelSettings, apiKey: 7 } });
    port.receive({ type: 'settings', settings: panelSettings, extra: true });
    port.receive('settings');
    expect(onSettings).not.toHaveBeenCalled();
    expect(onError).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(3);

    client.stop();
    expect(port.disconnected).toBe(true);
    port.receive({ type: 'settings', settings: panelSettings });
    expect(onSettings).not.toHaveBeenCalled();
  });

  it('reports the background failing to read the settings', () => {
    const port = fakePort(PANEL_SETTINGS_PORT);
    const { client, onError } = clientWith(() => port);
    client.start();
    port.receive({ type: 'settings-unavailable', message: 'Could not read the settings' });
    expect(onError).toHaveBeenCalledWith(new Error('Could not read the settings'));
    client.stop();
  });

  it('does not reconnect once stopped', async () => {
    vi.useFakeTimers();
    const connect = vi.fn(() => fakePort(PANEL_SETTINGS_PORT));
    const { client } = clientWith(connect);
    client.start();
    client.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(connect).toHaveBeenCalledTimes(1);
  });
});
