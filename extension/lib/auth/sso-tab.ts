// The relay's "done" page, read from the sign-in tab's URL.

/** The one-time code's shape, as the relay's exchange route accepts it. */
export const SSO_CODE = /^[A-Za-z0-9_-]{20,100}$/;

/** The relay's link token (done page of an assertion for an account not linked to the IdP yet). */
export const SSO_LINK_TOKEN = /^[A-Za-z0-9_-]{20,100}$/;

/** The done page's error when the asserted account has its own password or second factor and no link. */
export const SSO_NOT_LINKED = 'SSO_ACCOUNT_NOT_LINKED';

/** Where the sign-in tab is, as far as the background cares. */
export type SsoTabPage =
  /** The relay's done page with a well-formed one-time code. */
  | { kind: 'done'; code: string }
  /**
   * The relay's done page saying the asserted account is not linked to the identity provider yet; the
   * link token lets the rep link it once with their own password.
   */
  | { kind: 'not-linked'; linkToken: string }
  /** The relay's done page, but without a code this extension accepts. */
  | { kind: 'done-without-code' }
  /** The relay's done page for a sign-in this attempt did not start (its state differs): login CSRF. */
  | { kind: 'done-foreign' }
  /** Stopped on the relay's own login or assertion address: the relay refused (its reason is in the tab). */
  | { kind: 'relay-refused' }
  /** Anywhere else (the identity provider's pages, mostly). */
  | { kind: 'elsewhere' };

/** What the done page's fragment carries, before its state is checked. */
function donePage(fragment: URLSearchParams): SsoTabPage {
  const code = fragment.get('code');
  if (code !== null) return SSO_CODE.test(code) ? { kind: 'done', code } : { kind: 'done-without-code' };
  const linkToken = fragment.get('linkToken');
  if (fragment.get('error') === SSO_NOT_LINKED && linkToken !== null && SSO_LINK_TOKEN.test(linkToken))
    return { kind: 'not-linked', linkToken };
  return { kind: 'done-without-code' };
}

/**
 * Classifies a sign-in tab's URL. Origin and path are compared exactly with the relay's, so a look-alike
 * host or a path that merely contains `/done` is "elsewhere". `loaded` says the page finished loading:
 * only then does a tab still at the login or assertion address mean the relay answered with an error
 * (on success both redirect before anything is shown).
 */
export function classifySsoTab(
  tabUrl: string,
  relayUrl: string,
  orgId: string,
  loaded: boolean,
  /** The state this attempt started the sign-in with; the done page must carry it back. */
  expectedState?: string,
): SsoTabPage {
  let url: URL;
  let relay: URL;
  try {
    url = new URL(tabUrl);
    relay = new URL(relayUrl);
  } catch {
    return { kind: 'elsewhere' };
  }
  if (url.origin !== relay.origin || url.username !== '' || url.password !== '') return { kind: 'elsewhere' };
  const base = relay.pathname.replace(/\/+$/, '');
  if (url.pathname === `${base}/v1/sso/saml/done`) {
    const fragment = new URLSearchParams(url.hash.replace(/^#/, ''));
    const page = donePage(fragment);
    // Someone else's code or link token steered here would sign the rep in as them, or have the rep tie
    // their password to a stranger's identity: the state check applies to both alike.
    if (
      page.kind !== 'done-without-code' &&
      expectedState !== undefined &&
      fragment.get('state') !== expectedState
    )
      return { kind: 'done-foreign' };
    return page;
  }
  const own = `${base}/v1/sso/saml/${orgId}/`;
  if (loaded && (url.pathname === `${own}login` || url.pathname === `${own}acs`))
    return { kind: 'relay-refused' };
  return { kind: 'elsewhere' };
}
