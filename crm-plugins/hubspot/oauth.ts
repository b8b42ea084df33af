import type { CrmOAuth } from '../oauth.ts';
import { exchangeHubSpotCode } from './client.ts';

/** HubSpot scopes the plugin needs (contacts, their schema, communications). */
export const HUBSPOT_SCOPES = [
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.schemas.contacts.read',
  'crm.schemas.contacts.write',
  'oauth',
];

const trimSlashes = (url: string) => url.replace(/\/+$/, '');

/** HubSpot's OAuth: install page, code exchange through the SDK, `POST /oauth/v1/token` refresh. */
export const hubSpotOAuth: CrmOAuth = {
  label: 'HubSpot',
  configHint: 'Set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET to connect HubSpot.',
  authorizeUrl(app, { redirectUri, state }) {
    const url = new URL(app.authorizeBase);
    url.search = new URLSearchParams({
      client_id: app.clientId,
      redirect_uri: redirectUri,
      scope: HUBSPOT_SCOPES.join(' '),
      state,
    }).toString();
    return url.href;
  },
  async exchangeCode(app, { code, redirectUri }) {
    const tokens = await exchangeHubSpotCode({
      code,
      redirectUri,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      basePath: app.tokenBase,
    });
    return {
      settings: { baseUrl: app.tokenBase, clientId: app.clientId, portalId: tokens.portalId },
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
    };
  },
  tokenUrl: (settings) => `${trimSlashes(settings.baseUrl ?? 'https://api.hubapi.com')}/oauth/v1/token`,
};
