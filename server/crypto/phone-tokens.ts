/**
 * Customers' phone numbers at rest (issue #18, item 1). A number is stored as a token: a
 * deterministic authenticated encryption of it, AES-256-GCM under a synthetic nonce (a keyed hash
 * of the number, so a nonce only ever recurs with its own number; opening checks the GCM tag and the
 * nonce again). The same number always gives
 * the same token, so every equality lookup, join, unique constraint and index works on tokens as
 * it did on numbers (the keyed hash is the blind index), and the relay can still open a token to
 * text, show or sync the number. A dump holds no number, and without the key a token cannot be
 * checked against a guessed one.
 *
 * One phone key per installation (not per org: the outbox keeps one send in flight per destination
 * across orgs), stored wrapped by the master key in `instance_secrets` and re-wrapped by
 * `keys rotate` under a new master key. Tokens never leave the stores: numbers go in as tokens
 * (`phoneToken`) and come out opened (`phoneNumber`); a value that is not a token (a business's
 * own sender number, a row written before tokens) passes through as it is.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import { BoundedCache } from '../lib/bounded-cache.ts';
import type { KeyProvider } from './key-provider.ts';

const PREFIX = 'p1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** What every token is bound to (GCM's additional data). */
const AAD = Buffer.from('phone-token:v1');
/** Where the wrapped phone key lives, and what it is bound to. */
const SECRET_NAME = 'phone_key';

export class PhoneTokenError extends Error {
  override readonly name = 'PhoneTokenError';
}

export class PhoneCipher {
  readonly #encKey: Buffer;
  readonly #macKey: Buffer;
  readonly #tailKey: Buffer;
  /**
   * Tokens and tail hashes already worked out (#20): a send needs its recipient's token and seven
   * tail hashes, one HMAC or cipher run each, and the same numbers recur. Bounded; per cipher, so
   * a new key never answers with the old key's tokens.
   */
  readonly #tokens = new BoundedCache<string, string>(10_000);
  readonly #tails = new BoundedCache<string, readonly string[]>(10_000);

  constructor(key: Buffer) {
    if (key.length !== 32) throw new PhoneTokenError('a phone key is 32 bytes');
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32));
    this.#encKey = derive('phone-token:enc');
    this.#macKey = derive('phone-token:mac');
    this.#tailKey = derive('phone-token:tail');
  }

  /** The token stored for a number (the same number, the same token). */
  token(number: string): string {
    if (number.startsWith(PREFIX)) return number;
    return this.#tokens.getOrCompute(number, () => this.#seal(number));
  }

  #seal(number: string): string {
    const iv = this.#iv(number);
    const cipher = createCipheriv('aes-256-gcm', this.#encKey, iv).setAAD(AAD);
    const body = Buffer.concat([cipher.update(number, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The number a token stands for; anything else (a number in clear) as it is. */
  number(stored: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new PhoneTokenError('a phone token is cut short');
    const iv = raw.subarray(0, IV_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.#encKey, iv).setAAD(AAD);
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    let number: string;
    try {
      number = Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new PhoneTokenError('a phone token does not open with this installation’s phone key');
    }
    if (!timingSafeEqual(this.#iv(number), iv))
      throw new PhoneTokenError('a phone token does not open with this installation’s phone key');
    return number;
  }

  /**
   * Keyed hashes of a number's last 4 to 10 digits (the inbox's search by "the number ending in…"),
   * and `tailOf` for what a person typed: equal digits, equal hash.
   */
  tails(number: string): string[] {
    return [...this.#tails.getOrCompute(number, () => this.#tailsOf(number))];
  }

  #tailsOf(number: string): string[] {
    const digits = number.replace(/\D/g, '');
    const tails: string[] = [];
    for (let n = 4; n <= Math.min(10, digits.length); n += 1) tails.push(this.tailOf(digits.slice(-n)));
    return tails;
  }

  tailOf(digits: string): string {
    return createHmac('sha256', this.#tailKey).update(digits).digest('base64url').slice(0, 16);
  }

  #iv(number: string): Buffer {
    return createHmac('sha256', this.#macKey).update(number, 'utf8').digest().subarray(0, IV_BYTES);
  }
}

/** The installation's phone key, made on first use and stored wrapped by the master key. */
export async function loadPhoneCipher(db: Queryable, provider: KeyProvider): Promise<PhoneCipher> {
  await db.query('INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
    SECRET_NAME,
    await provider.wrap(randomBytes(32), SECRET_NAME),
  ]);
  const [row] = await db.query<{ value: string }>('SELECT value FROM instance_secrets WHERE name = $1', [
    SECRET_NAME,
  ]);
  if (row === undefined) throw new PhoneTokenError('the phone key could not be stored');
  return new PhoneCipher(await provider.unwrap(row.value, SECRET_NAME));
}

/** The wrapped phone key, for re-wrapping under a new master key (rewrap.ts). */
export const PHONE_KEY_SECRET = SECRET_NAME;
