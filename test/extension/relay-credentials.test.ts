// @vitest-environment node
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';

// wxt/browser resolves the extension API from globalThis.chrome when no `browser` global is set.
(globalThis as { chrome?: unknown }).chrome = fakeBrowser;
const { credentialOf, loadSettings, saveRelayUrl, saveSettings } = await import(
  '../../extension/lib/settings.ts'
);

/**
 * Issue #13, finding 12: an API key is bound to the relay it was entered for. Pointing the
 * extension at another relay (a typo, a phishing instruction, a policy change) must not send the
 * key there: the panel asks to sign in again instead.
 */

const RELAY = 'https://relay.acme.example';
const OTHER = 'https://relay.attacker.example';
const KEY = 'rk_live_0123456789abcdef';

beforeEach(() => {
  fakeBrowser.reset();
});

describe('API key storage', () => {
  it('uses the key with the relay it was saved for', async () => {
    await saveSettings({ relayUrl: RELAY, apiKey: KEY });
    const settings = await loadSettings();
    expect(settings.relayUrl).toBe(RELAY);
    expect(credentialOf(settings)).toBe(KEY);
  });

  it('never offers the key to a relay URL entered afterwards', async () => {
    await saveSettings({ relayUrl: RELAY, apiKey: KEY });
    await saveRelayUrl(OTHER);
    const settings = await loadSettings();
    expect(settings.relayUrl).toBe(OTHER);
    expect(settings.apiKey).toBeNull();
    expect(credentialOf(settings)).toBeNull();
  });

  it('keeps the key bound to its relay when switching back', async () => {
    await saveSettings({ relayUrl: RELAY, apiKey: KEY });
    await saveRelayUrl(OTHER);
    await saveRelayUrl(`${RELAY}/`);
    expect((await loadSettings()).apiKey).toBe(KEY);
  });

  it('drops a key stored without its relay (an older version) rather than guessing where it belongs', async () => {
    await fakeBrowser.storage.local.set({ relayUrl: OTHER });
    await fakeBrowser.storage.session.set({ apiKey: KEY });
    expect((await loadSettings()).apiKey).toBeNull();
  });
});
