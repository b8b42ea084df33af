import { type InRelay, runCli } from '../../server/cli/main.ts';

/** Runs one CLI command in this process and collects its exit code, stdout and stderr. */
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return cliOn(undefined, ...args);
}

/** Like cli(), on a given database and configuration (as a relay runs a command for a CLI beside it). */
export async function cliOn(
  inRelay: InRelay | undefined,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(
    args,
    (s) => {
      out += `${s}\n`;
    },
    (s) => {
      err += `${s}\n`;
    },
    undefined,
    inRelay,
  );
  return { code, out, err };
}
