import type { Config } from '../config.ts';
import { resolveSecretsKey, type SecretsKey } from '../crypto/secrets.ts';
import type { Database } from '../db/database.ts';
import { ApiError } from '../errors.ts';

// What every CLI command module shares: the command shape, the usage error, stdin and the CLI's actor name.

export interface CommandBase {
  summary: string;
  usage: string;
  flags: Record<string, { help: string; required?: boolean; value?: boolean }>;
}

/** Input and output of a command that streams lines instead of returning one result. */
export interface CommandIo {
  input: AsyncIterable<string | Uint8Array>;
  out: (s: string) => void;
}

/**
 * What a database command gets besides the database: the configuration of the process it runs in
 * (the running relay's own when the relay runs it for a CLI beside it, so links carry its
 * PUBLIC_URL) and where progress and warnings go. Commands never write to process.stdout/stderr.
 */
export interface DatabaseCommandIo extends CommandIo {
  config: Config;
  err: (s: string) => void;
}

/** A CLI command: its flags, help text and action. Output goes through `print` as text or JSON. */
export type Command =
  | (CommandBase & {
      needsDatabase?: true;
      run(
        db: Database,
        flags: Record<string, string>,
        io: DatabaseCommandIo,
      ): Promise<{ json: Record<string, unknown>; text: string }>;
    })
  | (CommandBase & {
      /** The command never touches the database, so none is opened; it returns its exit code. */
      needsDatabase: false;
      run(io: CommandIo, flags: Record<string, string>): Promise<number>;
    });

export class UsageError extends Error {}

/** The first line of stdin, without its line end (a password piped in, never on the command line). */
export async function readFirstLine(input: AsyncIterable<string | Uint8Array>): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** The CLI acts as the operator: auth events name it so. */
export const CLI_ACTOR = 'cli';

/** The installation's secrets key, or a clear refusal (outside the sandbox SECRETS_KEY is required). */
export async function requireSecretsKey(
  db: Database,
  io: DatabaseCommandIo,
  what: string,
): Promise<SecretsKey> {
  const key = await resolveSecretsKey(db, {
    configured: io.config.secretsKey,
    sandbox: io.config.smsProvider === 'sandbox',
    warn: (m) => io.err(`Warning: ${m}`),
  });
  if (key === null)
    throw new ApiError(
      400,
      'SECRETS_KEY_REQUIRED',
      `Set SECRETS_KEY (32 random bytes, base64) to store ${what}.`,
    );
  return key;
}
