import { describe, expect, it } from 'vitest';
import { classifyInbound } from '../../server/compliance/classifier.ts';
import { matchKeyword } from '../../server/compliance/keywords.ts';
import { HELP_KEYWORDS, OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS } from '../../server/compliance/opt-out-lexicon.ts';

// One lexicon feeds the keyword matcher and the classifier, so they cannot disagree on a keyword.
describe('the one opt-out lexicon', () => {
  it('makes the keyword matcher and the classifier agree on every opt-out keyword', () => {
    for (const keyword of OPT_OUT_KEYWORDS) {
      expect(matchKeyword(keyword, false), keyword).toBe('opt_out');
      expect(classifyInbound(keyword, { currentlyOptedOut: false }).label, keyword).toBe('opt_out');
    }
  });

  it('makes them agree on every opt-in and help keyword', () => {
    for (const keyword of OPT_IN_KEYWORDS) {
      expect(matchKeyword(keyword, true), keyword).toBe('opt_in');
      expect(classifyInbound(keyword, { currentlyOptedOut: true }).label, keyword).toBe('opt_in');
    }
    for (const keyword of HELP_KEYWORDS) {
      expect(matchKeyword(keyword, false), keyword).toBe('help');
      expect(classifyInbound(keyword, { currentlyOptedOut: false }).label, keyword).toBe('help');
    }
  });

  it('repairs a doubled letter in a keyword the lexicon lists', () => {
    expect(classifyInbound('Unsubbb', { currentlyOptedOut: false }).label).toBe('opt_out');
  });
});
