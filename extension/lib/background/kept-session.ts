import type { SessionStore } from '../auth/session.ts';
import type { SessionVault } from '../auth/session-vault.ts';

/**
 * Keeps the sealed session in step with the one in `storage.session`, whoever changed it: a sign-in on
 * the options page, the SSO flow, a refresh, a sign-out. A session the org lets outlive the browser is
 * sealed; any other session, or none, leaves nothing kept. Changes are followed one at a time, each
 * reading the session as it is then, so the last one always wins.
 */
export class KeptSessionFollower {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: SessionStore,
    private readonly vault: SessionVault,
  ) {}

  /** Call whenever the stored session changed. */
  follow(): void {
    this.tail = this.tail
      .then(() => this.sync())
      .catch((error: unknown) => console.warn('[crm-texting] could not keep the session', error));
  }

  /** Settles once every change followed so far is reflected in the vault. */
  settled(): Promise<void> {
    return this.tail;
  }

  private async sync(): Promise<void> {
    const session = await this.store.get();
    if (session?.keepSignedIn) {
      const { relayUrl, email, refreshToken } = session;
      await this.vault.keep({ relayUrl, email, refreshToken });
    } else await this.vault.forget();
  }
}
