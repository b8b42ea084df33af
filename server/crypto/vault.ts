/**
 * Message texts at rest: sealed with AES-256-GCM under a data key of their organisation
 * (org_data_keys, 043_sealed_bodies.sql), each data key stored wrapped by the master key
 * (key-provider.ts). A sealed text is bound to its message (`message:<id>` as additional data),
 * so a body copied onto another row does not open.
 *
 * One vault is attached to each open database (`attachVault`) and found from any handle on it,
 * transactions included (`vaultOf`), so the stores keep their `Queryable` signatures. Data keys
 * are cached once read; an org's active key is looked up again after a minute, so a rotation
 * made by another process (the CLI) is followed without a restart.
 */
import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../clock.ts';
import { type Database, databaseOf, type Queryable } from '../db/database.ts';
import type { KeyProvider } from './key-provider.ts';
import { LocalKeyProvider } from './key-provider.ts';
import { loadPhoneCipher, type PhoneCipher } from './phone-tokens.ts';
import { tokenizeStoredPhones } from './phone-upgrade.ts';
import {
  acceptPreviousKeys,
  open,
  parseSecretsKey,
  resolveSecretsKey,
  type SecretsKey,
  seal,
  secretsKey,
} from './secrets.ts';

const ACTIVE_TTL_MS = 60_000;

export class VaultError extends Error {
  override readonly name = 'VaultError';
}

interface ActiveKey {
  no: number;
  key: SecretsKey;
  /** performance.now() after which the active key is read again. */
  freshUntil: number;
}

export class KeyVault {
  readonly #active = new Map<string, ActiveKey>();
  readonly #keys = new Map<string, SecretsKey>();
  /** Transactions that created a data key: what they read is not cached until it commits. */
  readonly #creators = new WeakSet<Queryable>();
  /**
   * Bumped when an org's active key is let go of: a lookup that began before (and may have read
   * the old key) uses what it read once, but does not put it back in the cache.
   */
  readonly #rotations = new Map<string, number>();
  #phones: PhoneCipher | null = null;

  constructor(
    readonly provider: KeyProvider,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Reads (or makes) the installation's phone key: customers' numbers are stored as its tokens. */
  async loadPhoneKey(db: Queryable): Promise<void> {
    this.#phones ??= await loadPhoneCipher(db, this.provider);
  }

  /** Customers' numbers to tokens and back (phone-tokens.ts). */
  get phones(): PhoneCipher {
    if (this.#phones === null)
      throw new VaultError(
        'the phone key is not loaded: open the vault with openVault (server/crypto/vault.ts)',
      );
    return this.#phones;
  }

  /** The clock that dates data keys (created, retired, resealed). */
  instant(): Date {
    return this.clock();
  }

  /** Seals a text of `orgId` for `context` under the org's active data key (made on first use). */
  async seal(
    q: Queryable,
    orgId: string,
    context: string,
    text: string,
  ): Promise<{ sealed: string; keyNo: number }> {
    const active = await this.activeKey(q, orgId);
    return { sealed: seal(active.key, text, context), keyNo: active.no };
  }

  /** Seals with a key already in hand (the re-seal pass, one key for a whole batch). */
  sealWith(key: SecretsKey, context: string, text: string): string {
    return seal(key, text, context);
  }

  /** Opens what seal() made; a VaultError names the org, key and context when it does not open. */
  async open(q: Queryable, orgId: string, context: string, sealed: string, keyNo: number): Promise<string> {
    const key = await this.keyByNo(q, orgId, keyNo);
    try {
      return open(key, sealed, context);
    } catch (error) {
      throw new VaultError(
        `${context} of org ${orgId} does not open with data key ${keyNo}: ${String(error)}`,
      );
    }
  }

  /** The org's active data key; the first is made here (inside the caller's transaction, if any). */
  async activeKey(q: Queryable, orgId: string): Promise<{ no: number; key: SecretsKey }> {
    const cached = this.#active.get(orgId);
    if (cached !== undefined && cached.freshUntil > performance.now()) return cached;
    const rotations = this.#rotations.get(orgId) ?? 0;
    const [row] = await q.query<{ key_no: number; wrapped: string }>(
      `SELECT key_no, wrapped FROM org_data_keys WHERE org_id = $1 AND state = 'active'`,
      [orgId],
    );
    if (row !== undefined) return this.#remember(q, orgId, row.key_no, row.wrapped, rotations);
    await this.createKey(q, orgId);
    return this.activeKey(q, orgId);
  }

  /**
   * Makes a new active data key for the org and retires the one before (a rotation), in the
   * caller's transaction. Two at once: one wins, the other finds its key and uses it.
   */
  async createKey(q: Queryable, orgId: string): Promise<number> {
    const [last] = await q.query<{ key_no: number | null }>(
      'SELECT max(key_no) AS key_no FROM org_data_keys WHERE org_id = $1',
      [orgId],
    );
    const no = (last?.key_no ?? 0) + 1;
    const wrapped = await this.provider.wrap(randomBytes(32), dataKeyContext(orgId, no));
    const at = this.clock();
    await q.query(
      `UPDATE org_data_keys SET state = 'retired', retired_at = $2 WHERE org_id = $1 AND state = 'active'`,
      [orgId, at],
    );
    await q.query(
      `INSERT INTO org_data_keys (org_id, key_no, wrapped, state, created_at) VALUES ($1, $2, $3, 'active', $4)
       ON CONFLICT DO NOTHING`,
      [orgId, no, wrapped, at],
    );
    if (databaseOf(q) !== q) this.#creators.add(q);
    this.forgetActive(orgId);
    return no;
  }

  /** Any data key of the org that is not destroyed, by number. */
  async keyByNo(q: Queryable, orgId: string, no: number): Promise<SecretsKey> {
    const cached = this.#keys.get(`${orgId}:${no}`);
    if (cached !== undefined) return cached;
    const [row] = await q.query<{ wrapped: string | null }>(
      'SELECT wrapped FROM org_data_keys WHERE org_id = $1 AND key_no = $2',
      [orgId, no],
    );
    if (row?.wrapped == null)
      throw new VaultError(
        `data key ${no} of org ${orgId} is ${row === undefined ? 'missing' : 'destroyed'}`,
      );
    return (await this.#remember(q, orgId, no, row.wrapped, null)).key;
  }

  /** Forgets the org's active key (after a rotation in this process). */
  forgetActive(orgId: string): void {
    this.#active.delete(orgId);
    this.#rotations.set(orgId, (this.#rotations.get(orgId) ?? 0) + 1);
  }

  async #remember(
    q: Queryable,
    orgId: string,
    no: number,
    wrapped: string,
    /** For the active key: the org's rotation count when its lookup began (null: any key). */
    rotations: number | null,
  ): Promise<ActiveKey> {
    const id = `${orgId}:${no}`;
    const key =
      this.#keys.get(id) ?? secretsKey(await this.provider.unwrap(wrapped, dataKeyContext(orgId, no)));
    const entry = { no, key, freshUntil: performance.now() + ACTIVE_TTL_MS };
    // What a transaction that made a key reads may still roll back: used, never cached.
    if (this.#creators.has(q)) return entry;
    this.#keys.set(id, key);
    if (rotations !== null && rotations === (this.#rotations.get(orgId) ?? 0)) this.#active.set(orgId, entry);
    return entry;
  }
}

/** What a wrapped data key is bound to: its org and number. */
export const dataKeyContext = (orgId: string, no: number): string => `data_key:${orgId}:${no}`;

const VAULTS = new WeakMap<Queryable, KeyVault>();

/** Attaches the vault that seals and opens this database's texts. */
export function attachVault(db: Database, vault: KeyVault): KeyVault {
  VAULTS.set(db, vault);
  return vault;
}

/** The vault of the database behind a handle (a transaction's too). */
export function vaultOf(q: Queryable): KeyVault {
  const vault = VAULTS.get(databaseOf(q));
  if (vault === undefined)
    throw new VaultError(
      'no key vault is attached to this database: open it with openVault (server/crypto/vault.ts)',
    );
  return vault;
}

/**
 * A database that began in the sandbox keeps the key generated for it; once SECRETS_KEY is set,
 * what that key sealed (texts' data keys, second factors, CRM tokens) still opens, as if it were
 * in SECRETS_KEY_PREVIOUS, until `keys rotate` re-seals it under SECRETS_KEY.
 */
async function acceptSandboxKey(db: Database, warn?: (message: string) => void): Promise<void> {
  const [row] = await db.query<{ value: string }>(
    `SELECT value FROM instance_secrets WHERE name = 'secrets_key'`,
  );
  const bytes = row === undefined ? null : parseSecretsKey(row.value);
  if (bytes === null) return;
  acceptPreviousKeys([bytes]);
  warn?.(
    'This database began in the sandbox: what its generated key sealed still opens. Run `npm run cli -- keys rotate` to re-seal it under SECRETS_KEY.',
  );
}

/**
 * The database's vault, attached on first call: under SECRETS_KEY, or in sandbox mode the key
 * generated for the sandbox (resolveSecretsKey). Without either there is nothing to seal with.
 */
export async function openVault(
  db: Database,
  options: {
    configured: Buffer | null;
    sandbox: boolean;
    /** SECRETS_KEY_PREVIOUS: older master keys, opening what they sealed until it is re-sealed. */
    previous?: readonly Buffer[];
    clock?: Clock;
    warn?: (message: string) => void;
  },
): Promise<KeyVault> {
  acceptPreviousKeys(options.previous ?? []);
  const existing = VAULTS.get(db);
  if (existing !== undefined) {
    await existing.loadPhoneKey(db);
    return existing;
  }
  if (options.configured !== null) await acceptSandboxKey(db, options.warn);
  const key = await resolveSecretsKey(db, options);
  if (key === null)
    throw new VaultError(
      'SECRETS_KEY is required: message texts are stored encrypted under it (32 random bytes, base64)',
    );
  const vault = VAULTS.get(db) ?? attachVault(db, new KeyVault(new LocalKeyProvider(key), options.clock));
  await vault.loadPhoneKey(db);
  await tokenizeStoredPhones(db, vault.phones, { log: options.warn });
  return vault;
}
