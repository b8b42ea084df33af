import type { Database } from '../db/database.ts';

/** Announced at commit by the triggers of migration 019 whenever a credential's standing changes. */
export const CREDENTIALS_CHANNEL = 'relay_credentials';

/** What a change touched: an org, and in it a user, a session, a key or a role name. */
export interface CredentialNotice {
  org: string;
  user?: string;
  session?: string;
  key?: string;
  role?: string;
}

/** Parses a notice's payload; null when it is not one (then every watcher re-checks, to be safe). */
export function parseCredentialNotice(payload: string): CredentialNotice | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.org !== 'string') return null;
  const notice: CredentialNotice = { org: v.org };
  for (const field of ['user', 'session', 'key', 'role'] as const) {
    const id = v[field];
    if (typeof id === 'string') notice[field] = id;
  }
  return notice;
}

/** Who holds a long-lived connection; `role` is read at each notice, since it may change. */
export interface Watcher {
  orgId: string;
  userId: string | null;
  sessionId: string | null;
  keyId: string | null;
  role(): string;
  /** Called (synchronously, in arrival order) when a notice may concern this credential. */
  onNotice(): void;
}

/** Whether a notice may concern a watcher: same org, and the same user, session, key or role. */
export function concerns(notice: CredentialNotice, watcher: Watcher): boolean {
  if (notice.org !== watcher.orgId) return false;
  return (
    (notice.user !== undefined && notice.user === watcher.userId) ||
    (notice.session !== undefined && notice.session === watcher.sessionId) ||
    (notice.key !== undefined && notice.key === watcher.keyId) ||
    (notice.role !== undefined && notice.role === watcher.role())
  );
}

/**
 * One per relay process: listens on the credentials channel (PostgreSQL NOTIFY reaches every
 * process; PGlite delivers it inside the one process) and tells each affected watcher to re-check.
 * The notice only says where to look; watchers re-read the credential, so a forged or stale
 * notice can at most cause a re-check.
 */
export class CredentialWatch {
  private readonly watchers = new Set<Watcher>();
  private readonly observers = new Set<(notice: CredentialNotice | null) => void>();
  private unlisten: (() => Promise<void>) | null = null;

  constructor(private readonly db: Database) {}

  async start(): Promise<void> {
    this.unlisten = await this.db.listen(CREDENTIALS_CHANNEL, (payload) => this.dispatch(payload));
  }

  watch(watcher: Watcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Hears every notice (null: one that did not parse), e.g. to drop a cache of credentials. */
  observe(observer: (notice: CredentialNotice | null) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  private dispatch(payload: string): void {
    const notice = parseCredentialNotice(payload);
    for (const observer of this.observers) observer(notice);
    for (const watcher of this.watchers) {
      if (notice === null || concerns(notice, watcher)) watcher.onNotice();
    }
  }

  async stop(): Promise<void> {
    this.watchers.clear();
    this.observers.clear();
    await this.unlisten?.();
    this.unlisten = null;
  }
}
