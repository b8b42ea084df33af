import type { SsoExchange } from './auth-responses.ts';
import { ssoErrorMessage } from './error-messages.ts';
import type { AuthSession, SessionStore } from './session.ts';
import { ssoLoginUrl } from './sso-login.ts';
import {
  type ActiveSsoState,
  isActive,
  isSsoExpired,
  parseSsoState,
  type SsoCancelReason,
  type SsoLinkStep,
  type SsoSecondFactorStep,
  type SsoState,
} from './sso-state.ts';
import { classifySsoTab } from './sso-tab.ts';

/**
 * "Sign in with SSO" (SP-initiated SAML on the relay). The options page asks the background to start;
 * the background opens the relay's login address in a tab, waits for that tab to reach the relay's
 * "done" page with a one-time code in the fragment, trades the code for a session and closes the tab.
 * The coordinator is driven through `SsoPorts`, so it runs in tests without a browser.
 */

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
    // best effort: the step's caller gets its error from `run`; the queue only orders the next step after it.
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
    // best effort: the rep may have closed the tab already, and the attempt's outcome is saved either way.
    await this.ports.closeTab(tabId).catch(() => undefined);
  }

  /** Opens the login tab and records the attempt; a running attempt is replaced (its tab closed). */
  start(relayUrl: string, orgId: string, openerTabId: number | null): Promise<SsoStartResult> {
    return this.serial(async () => {
      // Without it the done page's URL (and its code) would never be visible here.
      // best effort: a failed permission check counts as no permission, and the rep is told what is missing.
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
      // best effort: the remembered organisation only pre-fills the next SSO sign-in; the session is stored.
      await this.ports.rememberOrg(state.relayUrl, state.orgId).catch(() => undefined);
    } catch (error) {
      await this.end(state, { status: 'failed', message: ssoErrorMessage(error) });
    }
    await this.closeAndReturn(state);
  }

  private async closeAndReturn(state: ActiveSsoState): Promise<void> {
    await this.closeQuietly(state.tabId);
    // best effort: the options tab that asked may be gone; the outcome is saved and shown when it reopens.
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
