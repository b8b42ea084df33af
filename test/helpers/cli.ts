import { runCli } from '../../server/cli/main.ts';

/** Runs one CLI command in this process and collects its exit code, stdout and stderr. */
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
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
  );
  return { code, out, err };
}
