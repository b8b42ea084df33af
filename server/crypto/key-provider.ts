/**
 * The master key that wraps every organisation's data keys (envelope encryption). The relay only
 * ever asks a provider to wrap or unwrap a 32-byte data key, so a cloud KMS (AWS KMS Encrypt /
 * Decrypt, Google Cloud KMS, Azure Key Vault wrapKey) fits behind the same interface; the local
 * provider below uses the installation's SECRETS_KEY (or the sandbox's generated key).
 */
import { open, type SecretsKey, seal } from './secrets.ts';

export interface KeyProvider {
  /** Names the master key; stored with nothing, each wrapped blob carries it. */
  readonly id: string;
  /** Wraps a data key, bound to `context` (a blob copied to another org or key number does not open). */
  wrap(dataKey: Buffer, context: string): Promise<string>;
  /** Opens what wrap() made for the same context; throws when it does not open. */
  unwrap(wrapped: string, context: string): Promise<Buffer>;
  /** Seals a small value with the master key itself (texts no organisation owns). */
  sealValue(plaintext: string, context: string): Promise<string>;
  openValue(sealed: string, context: string): Promise<string>;
}

/** AES-256-GCM under the installation's secrets key (server/crypto/secrets.ts). */
export class LocalKeyProvider implements KeyProvider {
  readonly id: string;

  constructor(private readonly key: SecretsKey) {
    this.id = `local:${key.id}`;
  }

  async wrap(dataKey: Buffer, context: string): Promise<string> {
    return seal(this.key, dataKey.toString('base64'), context);
  }

  async unwrap(wrapped: string, context: string): Promise<Buffer> {
    return Buffer.from(open(this.key, wrapped, context), 'base64');
  }

  async sealValue(plaintext: string, context: string): Promise<string> {
    return seal(this.key, plaintext, context);
  }

  async openValue(sealed: string, context: string): Promise<string> {
    return open(this.key, sealed, context);
  }
}
