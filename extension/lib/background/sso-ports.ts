import { browser } from 'wxt/browser';
import { AuthApi } from '../auth/auth-api.ts';
import type { SsoPorts } from '../auth/sso-coordinator.ts';
import { SSO_LAST_ORG_KEY } from '../auth/sso-login.ts';
import { SSO_STATE_KEY } from '../auth/sso-state.ts';
import { relayOriginPattern } from '../host-permission.ts';
import { RelayClient } from '../relay/relay-client.ts';
import { browserSessionStore } from '../settings.ts';

/**
 * The browser's side of "Sign in with SSO": the attempt lives in session storage, so the background's
 * listeners (registered on every start of the worker) pick it up again after the worker slept.
 */
export function browserSsoPorts(): SsoPorts {
  return {
    load: async () => (await browser.storage.session.get(SSO_STATE_KEY))[SSO_STATE_KEY],
    save: (state) => browser.storage.session.set({ [SSO_STATE_KEY]: state }),
    mayReadRelayTabs: (relayUrl) => browser.permissions.contains({ origins: [relayOriginPattern(relayUrl)] }),
    openTab: async (url, openerTabId) => {
      const tab = await browser.tabs.create({
        url,
        active: true,
        ...(openerTabId === null ? {} : { openerTabId }),
      });
      if (tab.id === undefined) throw new Error('the browser gave the new tab no id');
      return tab.id;
    },
    closeTab: (tabId) => browser.tabs.remove(tabId),
    focusTab: async (tabId) => {
      await browser.tabs.update(tabId, { active: true });
    },
    exchange: (relayUrl, code) => new AuthApi(relayUrl).exchange(code),
    accountName: async (relayUrl, accessToken) => {
      const me = await new RelayClient({ baseUrl: relayUrl, apiKey: accessToken }).me();
      return me.email ?? me.displayName ?? `${me.role} at ${me.orgName}`;
    },
    rememberOrg: (relayUrl, orgId) => browser.storage.local.set({ [SSO_LAST_ORG_KEY]: { relayUrl, orgId } }),
    store: browserSessionStore,
    now: Date.now,
    newId: () => crypto.randomUUID(),
  };
}

/** Reports a failed SSO step; the attempt's stored state already tells the options page what happened. */
export function reportSsoFailure(error: unknown): void {
  console.error('[crm-texting] SSO sign-in step failed', error);
}
