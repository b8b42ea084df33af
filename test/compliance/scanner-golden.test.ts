import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Finding, scanText } from '../../server/compliance/content-scanner.ts';

/**
 * #20: the scanner was made many times faster without changing one verdict. The fixture holds
 * what it found in some 3,000 texts before (every corpus text, written in many ways, and seeded
 * pairs of them; see scanner-golden-texts.ts): every finding, its span and detail, and the
 * redacted text must stay exactly that.
 */
interface GoldenRecord {
  text: string;
  findings: Finding[];
  redacted?: string;
}

const records: GoldenRecord[] = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures/scanner-golden.json'), 'utf8'),
);

describe('content scanner against its golden record', () => {
  it('has a record worth comparing with', () => {
    expect(records.length).toBeGreaterThan(2500);
    for (const kind of ['card', 'ssn', 'bank', 'phi'])
      expect(records.filter((r) => r.findings.some((f) => f.kind === kind)).length, kind).toBeGreaterThan(20);
  });

  it('finds and redacts exactly what it did before', () => {
    const changed = records.filter((r) => {
      const now = scanText(r.text);
      return JSON.stringify(now) !== JSON.stringify({ findings: r.findings, redacted: r.redacted ?? r.text });
    });
    expect(changed.map((r) => r.text)).toEqual([]);
  });

  it('gives the same answer when asked twice', () => {
    for (const r of records.slice(0, 300)) expect(scanText(r.text)).toEqual(scanText(r.text));
  });
});
