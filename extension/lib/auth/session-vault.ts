import { browser } from 'wxt/browser';
import { isRecord } from '../validate.ts';
import { TOKEN } from './session.ts';

/**
 * What is kept across browser restarts: enough to spend the refresh token once and so open the session
 * again. Never the access token, which stays in `storage.session`.
 */
export interface KeptSession {
  relayUrl: string;
  email: string;
  refreshToken: string;
}

/** The refresh token kept on disk, sealed, for a rep who stays signed in across browser restarts. */
export interface SessionVault {
  /** Seals `session` in place of whatever was kept. */
  keep(session: KeptSession): Promise<void>;
  /** The kept session, or null when none is kept or it no longer opens (then nothing stays kept). */
  open(): Promise<KeptSession | null>;
  /** Deletes the sealed session and its key. */
  forget(): Promise<void>;
}

/** Where the vault keeps things: `browser.storage.local` for the sealed token, IndexedDB for the key. */
export interface VaultPlaces {
  local: {
    get(key: string): Promise<Record<string, unknown>>;
    set(items: Record<string, unknown>): Promise<void>;
    remove(key: string): Promise<void>;
  };
  indexedDB: IDBFactory;
  subtle: SubtleCrypto;
}

export const SEALED_SESSION_KEY = 'sealedSession';
const DB_NAME = 'crm-texting-vault';
const KEY_STORE = 'keys';
const KEY_ID = 'session';
/** Binds a ciphertext to its purpose, so no other sealed value of ours can pass for a session. */
const PURPOSE = new TextEncoder().encode('crm-texting kept session v1');

interface Sealed {
  iv: string;
  data: string;
}

const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

function parseSealed(value: unknown): Sealed | null {
  if (!isRecord(value) || typeof value.iv !== 'string' || typeof value.data !== 'string') return null;
  return { iv: value.iv, data: value.data };
}

function parseKept(value: unknown): KeptSession | null {
  if (!isRecord(value)) return null;
  const { relayUrl, email, refreshToken } = value;
  if (typeof relayUrl !== 'string' || typeof email !== 'string') return null;
  if (typeof refreshToken !== 'string' || !TOKEN.test(refreshToken)) return null;
  return { relayUrl, email, refreshToken };
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Seals with an AES-GCM key that cannot be exported (`extractable: false`): the key object lives in the
 * extension's IndexedDB, so a copy of the profile's extension storage alone does not reveal the token,
 * and script can use the key only inside this extension. Operations run one at a time.
 */
export class SealedSessionVault implements SessionVault {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly places: VaultPlaces) {}

  keep(session: KeptSession): Promise<void> {
    return this.queue(async () => {
      const key = await this.withKeys((store) => done(store.get(KEY_ID)), 'readonly');
      const usable = key instanceof CryptoKey ? key : await this.newKey();
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const plain = new TextEncoder().encode(JSON.stringify(session));
      const data = await this.places.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: PURPOSE },
        usable,
        plain,
      );
      const sealed: Sealed = { iv: toBase64(iv), data: toBase64(new Uint8Array(data)) };
      await this.places.local.set({ [SEALED_SESSION_KEY]: sealed });
    });
  }

  open(): Promise<KeptSession | null> {
    return this.queue(async () => {
      const sealed = parseSealed((await this.places.local.get(SEALED_SESSION_KEY))[SEALED_SESSION_KEY]);
      if (sealed === null) return null;
      const key = await this.withKeys((store) => done(store.get(KEY_ID)), 'readonly');
      const kept = key instanceof CryptoKey ? await this.unseal(key, sealed) : null;
      // A token whose key is gone (or that does not decrypt) can never open again: nothing is kept.
      if (kept === null) await this.erase();
      return kept;
    });
  }

  forget(): Promise<void> {
    return this.queue(() => this.erase());
  }

  private async unseal(key: CryptoKey, sealed: Sealed): Promise<KeptSession | null> {
    try {
      const plain = await this.places.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64(sealed.iv), additionalData: PURPOSE },
        key,
        fromBase64(sealed.data),
      );
      return parseKept(JSON.parse(new TextDecoder().decode(plain)));
    } catch (error) {
      console.warn('[crm-texting] the kept session does not open; signing in again', error);
      return null;
    }
  }

  private async erase(): Promise<void> {
    await this.places.local.remove(SEALED_SESSION_KEY);
    await this.withKeys((store) => done(store.delete(KEY_ID)), 'readwrite');
  }

  /** A fresh key, stored before anything is sealed with it. */
  private async newKey(): Promise<CryptoKey> {
    const key = await this.places.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    await this.withKeys((store) => done(store.put(key, KEY_ID)), 'readwrite');
    return key;
  }

  private async withKeys<T>(
    use: (store: IDBObjectStore) => Promise<T>,
    mode: IDBTransactionMode,
  ): Promise<T> {
    const open = this.places.indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(KEY_STORE);
    const db = await done(open);
    try {
      const tx = db.transaction(KEY_STORE, mode);
      const committed = new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
      const [result] = await Promise.all([use(tx.objectStore(KEY_STORE)), committed]);
      return result;
    } finally {
      db.close();
    }
  }

  private queue<T>(run: () => Promise<T>): Promise<T> {
    const next = this.tail.then(run, run);
    this.tail = next.catch(() => {
      // best effort: the queue only orders the steps; each caller gets (and handles) its own outcome.
    });
    return next;
  }
}

let vault: SessionVault | null = null;

/** This extension's vault (its `storage.local` and IndexedDB), made on first use. */
export function browserSessionVault(): SessionVault {
  vault ??= new SealedSessionVault({
    local: browser.storage.local,
    indexedDB: globalThis.indexedDB,
    subtle: globalThis.crypto.subtle,
  });
  return vault;
}
