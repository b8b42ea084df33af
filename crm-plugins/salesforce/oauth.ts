import type { CrmOAuth } from '../oauth.ts';
import { exchangeSalesforceCode, salesforceAuthorizeUrl } from './client.ts';

const trimSlashes = (url: string) => url.replace(/\/+$/, '');

/** Salesforce's OAuth web-server flow; refresh at `POST /services/oauth2/token` on the login host. */
export const salesforceOAuth: CrmOAuth = {
  label: 'Salesforce',
  configHint: 'Set SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET to connect Salesforce.',
  authorizeUrl: (app, { redirectUri, state }) =>
    salesforceAuthorizeUrl({ loginUrl: app.authorizeBase, clientId: app.clientId, redirectUri, state }),
  async exchangeCode({ clientId, clientSecret, tokenBase: loginUrl }, { code, redirectUri }) {
    const { instanceUrl, ...tokens } = await exchangeSalesforceCode({
      code,
      redirectUri,
      clientId,
      clientSecret,
      loginUrl,
    });
    return { settings: { instanceUrl, loginUrl, clientId }, ...tokens };
  },
  // A connection made by hand may carry only its instance URL, which also serves refreshes.
  tokenUrl: (settings) =>
    `${trimSlashes(settings.loginUrl ?? settings.instanceUrl ?? 'https://login.salesforce.com')}/services/oauth2/token`,
};
