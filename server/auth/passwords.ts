import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { argon2id, argon2Verify } from 'hash-wasm';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 128;

/** OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane. */
const ARGON2 = { memorySize: 19_456, iterations: 2, parallelism: 1, hashLength: 32 } as const;

const COMMON = new Set(
  fs
    .readFileSync(
      path.join(path.dirname(fileURLToPath(import.meta.url)), 'data', 'common-passwords.txt'),
      'utf8',
    )
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#')),
);

export type PasswordProblem = 'TOO_SHORT' | 'TOO_LONG' | 'COMMON_PASSWORD';

/** Why a new password is refused (ASVS 2.1.1, 2.1.2, 2.1.7), or null if it is acceptable. */
export function passwordProblem(password: string, context: { email?: string } = {}): PasswordProblem | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return 'TOO_SHORT';
  if (length > MAX_PASSWORD_LENGTH) return 'TOO_LONG';
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) return 'COMMON_PASSWORD';
  // The same character repeated, or the account's own email as the password.
  if (/^(.)\1+$/u.test(password)) return 'COMMON_PASSWORD';
  const local = context.email?.toLowerCase().split('@')[0];
  if (context.email !== undefined && (lower === context.email.toLowerCase() || lower === local))
    return 'COMMON_PASSWORD';
  return null;
}

export const PASSWORD_MESSAGES: Record<PasswordProblem, string> = {
  TOO_SHORT: `Choose a password of at least ${MIN_PASSWORD_LENGTH} characters.`,
  TOO_LONG: `Choose a password of at most ${MAX_PASSWORD_LENGTH} characters.`,
  COMMON_PASSWORD: 'This password is on a list of common or breached passwords; choose another.',
};

export async function hashPassword(password: string): Promise<string> {
  return argon2id({
    password: password.normalize('NFC'),
    salt: randomBytes(16),
    outputType: 'encoded',
    ...ARGON2,
  });
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await argon2Verify({ password: password.normalize('NFC'), hash });
  } catch {
    return false;
  }
}

let dummy: Promise<string> | null = null;
/** Spends the same time as a real check, so an unknown email answers as slowly as a known one. */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummy ??= hashPassword(randomBytes(18).toString('base64url'));
  await verifyPassword(password, await dummy);
}
