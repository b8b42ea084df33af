import { describe, expect, it } from 'vitest';
import { runCli } from '../../server/cli/main.ts';

// Issue #16, item 8: `cli --help` printed flags whose descriptions started in different columns
// (`--password-stdin read the password…`), hard to scan.

async function help(...args: string[]): Promise<string> {
  let out = '';
  const code = await runCli(
    [...args, '--help'],
    (s) => {
      out += `${s}\n`;
    },
    (s) => {
      throw new Error(`unexpected stderr: ${s}`);
    },
  );
  expect(code).toBe(0);
  return out;
}

/** The rows of a help section ("Commands:" or "Flags:"): each indented name, two spaces or more, its description. */
function descriptionColumns(text: string, heading: string): number[] {
  const lines = text.split('\n');
  const rows = lines.slice(lines.indexOf(heading) + 1);
  const section = rows.slice(0, rows.includes('') ? rows.indexOf('') : rows.length);
  expect(section.length).toBeGreaterThan(0);
  return section.map((row) => {
    const match = /^ {2}(\S+(?: \S+)*?) {2,}\S/.exec(row);
    expect(match, `no description column in "${row}"`).not.toBeNull();
    return (match?.[0].length ?? 0) - 1;
  });
}

describe('cli --help', () => {
  it('starts every command description in one column', async () => {
    const text = await help();
    expect(new Set(descriptionColumns(text, 'Commands:')).size).toBe(1);
  });

  it("starts every flag description in one column, in every command's help", async () => {
    const text = await help();
    const commands = descriptionColumns(text, 'Commands:').map((column, i) => {
      const row = text.split('\n')[text.split('\n').indexOf('Commands:') + 1 + i] as string;
      return row.slice(2, column).trim().split(' ');
    });
    expect(commands).toContainEqual(['user', 'create']);
    for (const command of commands) {
      const columns = descriptionColumns(await help(...command), 'Flags:');
      expect(new Set(columns).size, command.join(' ')).toBe(1);
    }
  });
});
