import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { corpusTexts, digitRuns } from '../bench/compliance-bench.ts';

/** #20 item 3: the compliance bench's figure is over the full corpora, against a fair yardstick. */
describe('compliance bench inputs', () => {
  const saved = process.env.CORPORA_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.CORPORA_DIR;
    else process.env.CORPORA_DIR = saved;
  });

  it('fails, naming the file, when a corpus is missing, instead of measuring a few built-in texts', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-corpora-'));
    process.env.CORPORA_DIR = empty;
    try {
      expect(() => corpusTexts()).toThrow(`${path.join(empty, 'optout-dev.json')} is missing`);
    } finally {
      fs.rmSync(empty, { recursive: true });
    }
  });

  it('reads every text of both corpora when they are there', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corpora-'));
    const item = (text: string) => ({ text, label: 'none', note: '' });
    fs.writeFileSync(path.join(dir, 'optout-dev.json'), JSON.stringify([item('STOP'), item('stop it')]));
    fs.writeFileSync(
      path.join(dir, 'sensitive-dev.json'),
      JSON.stringify([item('card 4242 4242 4242 4242')]),
    );
    process.env.CORPORA_DIR = dir;
    try {
      expect(corpusTexts()).toEqual(['STOP', 'stop it', 'card 4242 4242 4242 4242']);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('measures against digit runs of thirteen characters or more, as cards are, not any digit', () => {
    expect(digitRuns('cards 4242 4242 4242 4242 and 4000-0566-5566-5556')).toBe(2);
    expect(digitRuns('see you at 3:30 on the 12th')).toBe(0);
  });
});
