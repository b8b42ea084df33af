import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Keeps the server to the rule at the top of server/clock.ts: the relay's injected clock decides
 * compliance and expiry, the database's `now()` only coordinates processes, and nothing reads the
 * machine's clock behind the injected one's back.
 */
const SERVER = path.resolve(import.meta.dirname, '../../server');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Columns the database's clock may write or be compared with: leases, back-off, pacing, bookkeeping. */
const DATABASE_CLOCK_COLUMNS = [
  'lease_until',
  'next_send_at',
  'next_at',
  'paused_until',
  'next_poll_at',
  'checked_at',
  'updated_at',
  'decided_at',
  'applied_at',
  'replayed_at',
  'last_used_at',
  'received_at',
  'available_at',
];

interface Hit {
  file: string;
  line: number;
  text: string;
}

function scan(pattern: RegExp, allowed: (file: string, text: string) => boolean): Hit[] {
  const hits: Hit[] = [];
  for (const file of sourceFiles(SERVER)) {
    const relative = path.relative(SERVER, file);
    fs.readFileSync(file, 'utf8')
      .split('\n')
      .forEach((text, index) => {
        const code = text.trim();
        if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return;
        if (pattern.test(text) && !allowed(relative, text))
          hits.push({ file: relative, line: index + 1, text: code });
      });
  }
  return hits;
}

describe('one clock decides each fact', () => {
  it('reads the machine clock only in server/clock.ts', () => {
    const hits = scan(/new Date\(\)|Date\.now\b/, (file) => file === 'clock.ts');
    expect(hits, 'take the injected Clock (or performance.now() for a duration) instead').toEqual([]);
  });

  it("uses the database's now() only for leases, pacing and bookkeeping", () => {
    const hits = scan(/(^|[^.\w])now\(\)/, (_file, text) =>
      DATABASE_CLOCK_COLUMNS.some((column) => text.includes(column)),
    );
    expect(hits, 'a compliance or expiry fact must be written and judged with the injected clock').toEqual(
      [],
    );
  });

  it('finds a forbidden read of the machine clock (the rule itself works)', () => {
    expect(/new Date\(\)|Date\.now\b/.test('const at = new Date();')).toBe(true);
    expect(/(^|[^.\w])now\(\)/.test('WHERE expires_at > now()')).toBe(true);
    expect(/(^|[^.\w])now\(\)/.test('performance.now()')).toBe(false);
  });
});
