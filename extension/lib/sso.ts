import type { AuthApi, AuthSession, SessionStore, SsoExchange } from './auth.ts';
import { signInErrorMessage, ssoLinkErrorMessage } from './auth.ts';
import { SSO_ORG_ID } from './messages/extension-messages.ts';
import { RelayError } from './relay/relay-client.ts';

/**
 * "Sign in with SSO" (SP-initiated SAML on the relay). The options page asks the background to start;
 * the background opens the relay's login address in a tab, waits for that tab to reach the relay's
 * "done" page with a one-time code in the fragment, trades the code for a session and closes the tab.
 * Everything here is pure or driven through `SsoPorts`, so it runs in tests without a browser.
 */

/** The one-time code's shape, as the relay's exchange route accepts it. */
export const SSO_CODE = /^[A-Za-z0-9_-]{20,100}$/;

/** The relay's link token (done page of an assertion for an account not linked to the IdP yet). */
export const SSO_LINK_TOKEN = /^[A-Za-z0-9_-]{20,100}$/;

/** The done page's error when the asserted account has its own password or second factor and no link. */
export const SSO_NOT_LINKED = 'SSO_ACCOUNT_NOT_LINKED';

/** How long a started sign-in may wait for the identity provider. */
export const SSO_PENDING_TTL_MS = 10 * 60_000;
/** How long trading the one-time code may take before the attempt counts as lost. */
export const SSO_EXCHANGE_TTL_MS = 60_000;

/** The `browser.storage.session` key holding the current attempt; the options page watches it. */
export const SSO_STATE_KEY = 'ssoSignIn';

/** The `browser.storage.local` key remembering the last organisation signed in with (not a secret). */
export const SSO_LAST_ORG_KEY = 'ssoLastOrg';

/** The relay's SP-initiated login address for `orgId`. */
export function ssoLoginUrl(relayUrl: string, orgId: string, state?: string): string {
  const login = `${relayUrl}/v1/sso/saml/${orgId}/login`;
  return state === undefined ? login : `${login}?state=${encodeURIComponent(state)}`;
}

export type SsoTarget = { ok: true; orgId: string; loginUrl: string } | { ok: false; error: string };

/**
 * What the rep typed: the sign-in link an admin handed out (`{relay}/v1/sso/saml/{orgId}/login`, on the
 * configured relay) or the bare organisation ID. The login address is rebuilt from the ID, so nothing
 * else from a pasted link (query, fragment) is ever opened.
 */
export function parseSsoTarget(input: string, relayUrl: string): SsoTarget {
  const text = input.trim();
  const example = `${relayUrl}/v1/sso/saml/<organisation ID>/login`;
  if (text === '') return { ok: false, error: 'Enter the SSO sign-in link your admin gave you, or its ID.' };
  const asId = text.toLowerCase();
  if (SSO_ORG_ID.test(asId)) return { ok: true, orgId: asId, loginUrl: ssoLoginUrl(relayUrl, asId) };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return {
      ok: false,
      error: `That is neither a sign-in link nor an organisation ID. A link looks like ${example}; an ID looks like 123e4567-e89b-12d3-a456-426614174000.`,
    };
  }
  const relay = new URL(relayUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, error: `A sign-in link starts with http:// or https://, like ${example}.` };
  if (url.origin !== relay.origin) {
    return {
      ok: false,
      error: `This link is for ${url.origin}, but the extension uses the relay at ${relay.origin}. Change the relay URL above first, or ask your admin for the right link.`,
    };
  }
  const base = relay.pathname.replace(/\/+$/, '');
  const path = url.pathname.replace(/\/+$/, '');
  const prefix = `${base}/v1/sso/saml/`;
  const orgId = path.startsWith(prefix) && path.endsWith('/login') ? path.slice(prefix.length, -6) : '';
  if (!SSO_ORG_ID.test(orgId.toLowerCase()))
    return { ok: false, error: `This is not an SSO sign-in link. It should look like ${example}.` };
  const id = orgId.toLowerCase();
  return { ok: true, orgId: id, loginUrl: ssoLoginUrl(relayUrl, id) };
}

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

export type SsoCancelReason = 'tab-closed' | 'expired' | 'cancelled';

/** The attempt as stored under `SSO_STATE_KEY`. `attemptId` lets a page tell its own attempt from older ones. */
export type SsoState =
  | {
      status: 'pending' | 'exchanging';
      attemptId: string;
      relayUrl: string;
      orgId: string;
      tabId: number;
      /** The tab that asked (the options page), focused again when the sign-in tab closes. */
      openerTabId: number | null;
      /** Epoch milliseconds. */
      startedAt: number;
      /** When the code exchange began (status 'exchanging'); a worker that died mid-exchange leaves it. */
      exchangingSince?: number;
    }
  | { status: 'signed-in'; attemptId: string; email: string; at: number }
  /**
   * The identity provider named an account that has its own password (or second factor) and is not
   * linked to it yet: the options page asks for the password once and links it with `linkToken`.
   */
  | (SsoLinkStep & { status: 'not-linked'; attemptId: string; at: number })
  /** The relay wants the account's second factor before it opens the session (`POST /v1/auth/mfa`). */
  | (SsoSecondFactorStep & { status: 'mfa-required'; attemptId: string; at: number })
  | { status: 'failed'; attemptId: string; message: string; at: number }
  | { status: 'cancelled'; attemptId: string; reason: SsoCancelReason; at: number };

/** What the options page needs to link an account: a relay-issued token, valid 10 minutes, single use. */
export interface SsoLinkStep {
  relayUrl: string;
  orgId: string;
  linkToken: string;
}

/** What the options page needs to finish an SSO sign-in with the second factor. */
export interface SsoSecondFactorStep {
  relayUrl: string;
  orgId: string;
  /** The account, when the relay named it (it always does when it asks for a second factor). */
  email: string | null;
  mfaToken: string;
  /** The factors the account has, as the relay lists them ('totp', 'passkey'). */
  factors: string[];
}

export type ActiveSsoState = Extract<SsoState, { status: 'pending' | 'exchanging' }>;

export function isActive(state: SsoState | null): state is ActiveSsoState {
  return state?.status === 'pending' || state?.status === 'exchanging';
}

/** Whether an active attempt has outlived `SSO_PENDING_TTL_MS` (a clock that went backwards counts too). */
export function isSsoExpired(state: ActiveSsoState, now: number): boolean {
  // An exchange takes seconds; one still "exchanging" a minute later died with its worker.
  if (state.status === 'exchanging' && state.exchangingSince !== undefined) {
    if (now - state.exchangingSince >= SSO_EXCHANGE_TTL_MS) return true;
  }
  return now - state.startedAt >= SSO_PENDING_TTL_MS || now < state.startedAt - 60_000;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const MFA_TOKEN = /^[\x21-\x7e]{1,512}$/;
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 100;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isTabId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The stored attempt, or null when there is none or it does not have one of the shapes. */
export function parseSsoState(value: unknown): SsoState | null {
  if (!isRecord(value) || !isId(value.attemptId)) return null;
  const { attemptId } = value;
  switch (value.status) {
    case 'pending':
    case 'exchanging': {
      const { relayUrl, orgId, tabId, openerTabId, startedAt, exchangingSince } = value;
      if (typeof relayUrl !== 'string' || typeof orgId !== 'string' || !SSO_ORG_ID.test(orgId)) return null;
      if (!isTabId(tabId) || !isTime(startedAt)) return null;
      if (openerTabId !== null && !isTabId(openerTabId)) return null;
      if (exchangingSince !== undefined && !isTime(exchangingSince)) return null;
      return {
        status: value.status,
        attemptId,
        relayUrl,
        orgId,
        tabId,
        openerTabId,
        startedAt,
        ...(exchangingSince === undefined ? {} : { exchangingSince }),
      };
    }
    case 'signed-in':
      if (typeof value.email !== 'string' || !isTime(value.at)) return null;
      return { status: 'signed-in', attemptId, email: value.email, at: value.at };
    case 'not-linked': {
      const { relayUrl, orgId, linkToken } = value;
      if (typeof relayUrl !== 'string' || typeof orgId !== 'string' || !SSO_ORG_ID.test(orgId)) return null;
      if (typeof linkToken !== 'string' || !SSO_LINK_TOKEN.test(linkToken) || !isTime(value.at)) return null;
      return { status: 'not-linked', attemptId, relayUrl, orgId, linkToken, at: value.at };
    }
    case 'mfa-required': {
      const { relayUrl, orgId, email, mfaToken, factors } = value;
      if (typeof relayUrl !== 'string' || typeof orgId !== 'string' || !SSO_ORG_ID.test(orgId)) return null;
      if (email !== null && typeof email !== 'string') return null;
      if (typeof mfaToken !== 'string' || !MFA_TOKEN.test(mfaToken) || !isTime(value.at)) return null;
      if (!Array.isArray(factors) || !factors.every((f) => typeof f === 'string')) return null;
      return {
        status: 'mfa-required',
        attemptId,
        relayUrl,
        orgId,
        email,
        mfaToken,
        factors: factors as string[],
        at: value.at,
      };
    }
    case 'failed':
      if (typeof value.message !== 'string' || !isTime(value.at)) return null;
      return { status: 'failed', attemptId, message: value.message, at: value.at };
    case 'cancelled': {
      const { reason } = value;
      if (reason !== 'tab-closed' && reason !== 'expired' && reason !== 'cancelled') return null;
      if (!isTime(value.at)) return null;
      return { status: 'cancelled', attemptId, reason, at: value.at };
    }
    default:
      return null;
  }
}

/** Plain-language text for a failed exchange (or the account look-up after it). */
export function ssoErrorMessage(error: unknown): string {
  if (error instanceof RelayError) {
    switch (error.code) {
      case 'INVALID_CODE':
        return 'The sign-in code from your identity provider expired or was already used. Start SSO sign-in again.';
      case 'NETWORK_ERROR':
        return `You signed in at your identity provider, but the extension could not reach the relay to finish. ${error.message}`;
      case 'SSO_NOT_CONFIGURED':
        return 'This organisation has no single sign-on set up on this relay. Check the link with your admin.';
      case 'USER_DEACTIVATED':
        return 'Your account on the relay is deactivated. Ask your admin.';
    }
  }
  return signInErrorMessage(error);
}

/** Text for how an attempt ended without a session, for the options page. */
export function ssoCancelMessage(reason: SsoCancelReason): string {
  switch (reason) {
    case 'tab-closed':
      return 'SSO sign-in stopped because its tab was closed. Start again when you are ready.';
    case 'expired':
      return 'SSO sign-in took longer than 10 minutes and was stopped. Start again.';
    case 'cancelled':
      return 'SSO sign-in was cancelled.';
  }
}

/** What the coordinator needs from the browser and the relay; the background supplies the real ones. */
export interface SsoPorts {
  /** The raw value under `SSO_STATE_KEY`. */
  load(): Promise<unknown>;
  save(state: SsoState): Promise<void>;
  /** Whether the extension may read the URL of tabs on the relay's origin (its host permission). */
  mayReadRelayTabs(relayUrl: string): Promise<boolean>;
  openTab(url: string, openerTabId: number | null): Promise<number>;
  /** Closes a tab the coordinator opened; a tab already gone is not an error. */
  closeTab(tabId: number): Promise<void>;
  focusTab(tabId: number): Promise<void>;
  /** `POST {relay}/v1/sso/saml/exchange`: a session, or the second factor it still needs. */
  exchange(relayUrl: string, code: string): Promise<SsoExchange>;
  /**
   * A name for the account when the exchange answer carries no email (relays that predate it): the
   * relay's own display name for the signed-in user.
   */
  accountName(relayUrl: string, accessToken: string): Promise<string>;
  /** Remembers the organisation of a successful sign-in, so the options page offers it next time. */
  rememberOrg(relayUrl: string, orgId: string): Promise<void>;
  store: SessionStore;
  now(): number;
  newId(): string;
}

export type SsoStartResult = { ok: true; attemptId: string } | { ok: false; message: string };

/**
 * Owned by the background. Every step reads the attempt from storage first (the worker may have slept
 * since the last one) and steps run one at a time, so repeated tab events exchange a code only once.
 */
export class SsoCoordinator {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly ports: SsoPorts) {}

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // This coordinator is the only writer of the attempt, so after one read the copy here stays right; tab
  // events (every navigation in the browser) then cost no storage read when nothing is under way.
  private known: { state: SsoState | null } | null = null;

  private async current(): Promise<SsoState | null> {
    this.known ??= { state: parseSsoState(await this.ports.load()) };
    return this.known.state;
  }

  private async save(state: SsoState): Promise<void> {
    this.known = null;
    await this.ports.save(state);
    this.known = { state };
  }

  private async closeQuietly(tabId: number): Promise<void> {
    await this.ports.closeTab(tabId).catch(() => undefined);
  }

  /** Opens the login tab and records the attempt; a running attempt is replaced (its tab closed). */
  start(relayUrl: string, orgId: string, openerTabId: number | null): Promise<SsoStartResult> {
    return this.serial(async () => {
      // Without it the done page's URL (and its code) would never be visible here.
      if (!(await this.ports.mayReadRelayTabs(relayUrl).catch(() => false)))
        return {
          ok: false,
          message: `The extension needs permission to reach ${new URL(relayUrl).origin} to finish SSO sign-in.`,
        };
      const previous = await this.current();
      const attemptId = this.ports.newId();
      let tabId: number;
      try {
        // The attempt's id doubles as its state: the relay hands it back only to this sign-in.
        tabId = await this.ports.openTab(ssoLoginUrl(relayUrl, orgId, attemptId), openerTabId);
      } catch (error) {
        const message = `Could not open the sign-in tab: ${error instanceof Error ? error.message : String(error)}`;
        return { ok: false, message };
      }
      await this.save({
        status: 'pending',
        attemptId,
        relayUrl,
        orgId,
        tabId,
        openerTabId,
        startedAt: this.ports.now(),
      });
      // Saved first, so this tab's removal no longer matches an attempt.
      if (isActive(previous) && previous.tabId !== tabId) await this.closeQuietly(previous.tabId);
      return { ok: true, attemptId };
    });
  }

  /** A tab changed URL or finished loading. */
  tabUpdated(tabId: number, url: string | undefined, loaded: boolean): Promise<void> {
    return this.serial(async () => {
      const state = await this.current();
      if (!isActive(state) || state.tabId !== tabId || url === undefined) return;
      if (await this.expireIfDue(state)) return;
      if (state.status !== 'pending') return;
      const page = classifySsoTab(url, state.relayUrl, state.orgId, loaded, state.attemptId);
      switch (page.kind) {
        case 'elsewhere':
          return;
        case 'relay-refused':
          // Left open: the relay's error is in the tab, and the rep may want to read it.
          await this.end(state, {
            status: 'failed',
            message: 'The relay could not sign you in with SSO. Its reason is shown in the sign-in tab.',
          });
          return;
        case 'done-without-code':
          await this.end(state, {
            status: 'failed',
            message: 'The relay’s sign-in page did not carry a valid sign-in code. Start SSO sign-in again.',
          });
          await this.closeAndReturn(state);
          return;
        case 'done-foreign':
          // Someone else's code steered into this tab would sign the rep in as them: never trade it.
          await this.end(state, {
            status: 'failed',
            message:
              'That sign-in was not started from this extension, so it was not used. Start SSO sign-in again.',
          });
          await this.closeAndReturn(state);
          return;
        case 'not-linked':
          // The token only lets the rep link with their own password; the options page asks for it.
          await this.end(state, {
            status: 'not-linked',
            relayUrl: state.relayUrl,
            orgId: state.orgId,
            linkToken: page.linkToken,
          });
          await this.closeAndReturn(state);
          return;
        case 'done':
          await this.finish(state, page.code);
          return;
      }
    });
  }

  /** A tab was closed: if it was the sign-in tab of a waiting attempt, the attempt is cancelled. */
  tabRemoved(tabId: number): Promise<void> {
    return this.serial(async () => {
      const state = await this.current();
      // While exchanging the code is already spent: let that finish whatever happens to the tab.
      if (state?.status !== 'pending' || state.tabId !== tabId) return;
      await this.end(state, { status: 'cancelled', reason: 'tab-closed' });
    });
  }

  /** The rep cancelled from the options page. */
  cancel(): Promise<void> {
    return this.serial(async () => {
      const state = await this.current();
      if (state?.status !== 'pending') return;
      await this.end(state, { status: 'cancelled', reason: 'cancelled' });
      await this.closeQuietly(state.tabId);
    });
  }

  /** Ends an attempt that has waited too long (called on the background's periodic alarm). */
  expire(): Promise<void> {
    return this.serial(async () => {
      const state = await this.current();
      if (isActive(state)) await this.expireIfDue(state);
    });
  }

  private async expireIfDue(state: ActiveSsoState): Promise<boolean> {
    if (!isSsoExpired(state, this.ports.now())) return false;
    // The tab stays: the rep may be in the middle of typing at the identity provider.
    await this.end(state, { status: 'cancelled', reason: 'expired' });
    return true;
  }

  private async finish(state: ActiveSsoState, code: string): Promise<void> {
    await this.save({ ...state, status: 'exchanging', exchangingSince: this.ports.now() });
    try {
      const answer = await this.ports.exchange(state.relayUrl, code);
      if (answer.kind === 'mfa') {
        // The options page asks for the code and finishes at /v1/auth/mfa, as after a password.
        await this.end(state, {
          status: 'mfa-required',
          relayUrl: state.relayUrl,
          orgId: state.orgId,
          email: answer.email,
          mfaToken: answer.mfaToken,
          factors: answer.factors,
        });
        await this.closeAndReturn(state);
        return;
      }
      const { tokens } = answer;
      const email = tokens.email ?? (await this.ports.accountName(state.relayUrl, tokens.accessToken));
      const session: AuthSession = {
        relayUrl: state.relayUrl,
        email,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAt: tokens.expiresAt,
      };
      await this.ports.store.set(session);
      await this.end(state, { status: 'signed-in', email });
      await this.ports.rememberOrg(state.relayUrl, state.orgId).catch(() => undefined);
    } catch (error) {
      await this.end(state, { status: 'failed', message: ssoErrorMessage(error) });
    }
    await this.closeAndReturn(state);
  }

  private async closeAndReturn(state: ActiveSsoState): Promise<void> {
    await this.closeQuietly(state.tabId);
    if (state.openerTabId !== null) await this.ports.focusTab(state.openerTabId).catch(() => undefined);
  }

  private async end(
    state: ActiveSsoState,
    outcome:
      | { status: 'signed-in'; email: string }
      | (SsoLinkStep & { status: 'not-linked' })
      | (SsoSecondFactorStep & { status: 'mfa-required' })
      | { status: 'failed'; message: string }
      | { status: 'cancelled'; reason: SsoCancelReason },
  ): Promise<void> {
    await this.save({ ...outcome, attemptId: state.attemptId, at: this.ports.now() });
  }
}

export type SsoLinkState =
  /** Asking for the password; `codeNeeded` once the relay said the account also has an authenticator. */
  | { step: 'form'; busy: boolean; error: string | null; codeNeeded: boolean }
  /** No password to prove the account with (none, or a passkey): only an owner can link it. */
  | { step: 'needs-owner'; message: string }
  /** The link token expired or was used: only a new SSO sign-in issues another. */
  | { step: 'expired'; message: string }
  /** Linked; the next SSO sign-in opens the session. */
  | { step: 'linked'; email: string };

/**
 * The options page's "link this account once" step after the relay answered `SSO_ACCOUNT_NOT_LINKED`.
 * The UI renders `state` and calls `submit`; refusals come back as state, never as throws. The token
 * and the password go only to the relay that issued the token.
 */
export class SsoLinkFlow {
  state: SsoLinkState = { step: 'form', busy: false, error: null, codeNeeded: false };

  constructor(
    private readonly api: Pick<AuthApi, 'linkSso'>,
    private readonly linkToken: string,
    private readonly onChange: (state: SsoLinkState) => void = () => undefined,
  ) {}

  private setState(state: SsoLinkState): void {
    this.state = state;
    this.onChange(state);
  }

  async submit(password: string, code: string): Promise<void> {
    const state = this.state;
    if (state.step !== 'form' || state.busy) return;
    const digits = code.replace(/\s+/g, '');
    if (password === '') {
      this.setState({ ...state, error: 'Enter your password.' });
      return;
    }
    if (state.codeNeeded && digits === '') {
      this.setState({ ...state, error: 'Enter the 6-digit code from your authenticator app.' });
      return;
    }
    // The relay takes only the app's current code here (no recovery codes), so say so before sending.
    if (digits !== '' && !/^[0-9]{6}$/.test(digits)) {
      this.setState({ ...state, error: 'The authenticator code is the 6 digits your app shows now.' });
      return;
    }
    this.setState({ ...state, busy: true, error: null });
    try {
      const linked = await this.api.linkSso(this.linkToken, password, digits === '' ? undefined : digits);
      this.setState({ step: 'linked', email: linked.email });
    } catch (error) {
      const code = error instanceof RelayError ? error.code : null;
      if (code === 'SSO_LINK_NEEDS_OWNER')
        this.setState({ step: 'needs-owner', message: ssoLinkErrorMessage(error) });
      else if (code === 'INVALID_LINK_TOKEN')
        this.setState({ step: 'expired', message: ssoLinkErrorMessage(error) });
      else
        this.setState({
          step: 'form',
          busy: false,
          error: ssoLinkErrorMessage(error),
          codeNeeded: state.codeNeeded || code === 'CODE_REQUIRED',
        });
    }
  }
}
