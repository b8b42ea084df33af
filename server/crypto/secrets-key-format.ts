// The key format alone, free of database reads, so config.ts can validate SECRETS_KEY and stay pure.

/** Parses SECRETS_KEY: base64 (or base64url) of exactly 32 bytes. Returns null on anything else. */
export function parseSecretsKey(raw: string): Buffer | null {
  const trimmed = raw.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return null;
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 32 ? bytes : null;
}
