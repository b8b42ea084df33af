/**
 * Records what the scanner finds in the golden texts (#20) into fixtures/scanner-golden.json:
 * `CORPORA_DIR=… npx tsx test/compliance/record-scanner-golden.ts`, then `npx biome format --write` it.
 * Re-record only when a change of verdicts is meant, and say so in the commit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { scanText } from '../../server/compliance/content-scanner.ts';
import { goldenTexts } from './scanner-golden-texts.ts';

const records = goldenTexts().map((text) => {
  const { findings, redacted } = scanText(text);
  return redacted === text ? { text, findings } : { text, findings, redacted };
});
const file = path.resolve(import.meta.dirname, 'fixtures/scanner-golden.json');
fs.writeFileSync(file, `${JSON.stringify(records, null, 0).replaceAll('},{"text"', '},\n{"text"')}\n`);
console.log(
  `${records.length} texts, ${records.filter((r) => r.findings.length > 0).length} with findings -> ${file}`,
);
