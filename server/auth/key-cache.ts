import type { KeyPrincipal } from './api-keys.ts';

/**
 * Remembers resolved API keys for a moment, so a burst of requests with one key costs one
 * lookup instead of one per request. Every process empties it when a credential change is
 * announced (CredentialWatch, NOTIFY relay_credentials), so a revoked key stops within the
 * notice's delivery; the TTL bounds the rest (a notice lost while the listen connection is down).
 */
export class KeyCache {
  private readonly entries = new Map<string, { principal: KeyPrincipal; expires: number }>();

  constructor(
    private readonly ttlMs = 2000,
    private readonly maxEntries = 10_000,
  ) {}

  // A duration inside one process: the monotonic clock (server/clock.ts).
  get(presented: string, now = performance.now()): KeyPrincipal | null {
    const entry = this.entries.get(presented);
    if (entry === undefined) return null;
    if (entry.expires <= now) {
      this.entries.delete(presented);
      return null;
    }
    return entry.principal;
  }

  set(presented: string, principal: KeyPrincipal, now = performance.now()): void {
    if (this.entries.size >= this.maxEntries) {
      // Drop the oldest insertion; Map iterates in insertion order.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(presented, { principal, expires: now + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}
