import { describe, expect, it } from 'vitest';
import { applyFirstContactNotice } from '../../server/compliance/first-contact.ts';
import { suggestGsmReplacements } from '../../server/compliance/gsm-suggestions.ts';

const now = new Date('2026-06-10T15:00:00Z');

describe('first-contact notice', () => {
  it('names the organisation and adds opt-out instructions to the first message', () => {
    const result = applyFirstContactNotice({
      text: 'Hi Dana, your quote is ready',
      orgName: 'Acme Roofing',
      lastMessageAt: null,
      now,
    });
    expect(result.text).toBe('Acme Roofing: Hi Dana, your quote is ready. Reply STOP to opt out.');
    expect(result.segments).toMatchObject({ encoding: 'GSM-7', segments: 1 });
  });

  it('adds nothing to a message in an active conversation', () => {
    const result = applyFirstContactNotice({
      text: 'See you at 3',
      orgName: 'Acme',
      lastMessageAt: new Date('2026-06-09T15:00:00Z'),
      now,
    });
    expect(result).toMatchObject({ text: 'See you at 3', added: { identification: false, optOut: false } });
  });

  it('identifies the sender again after the configured silence', () => {
    const lastMessageAt = new Date('2026-06-01T15:00:00Z');
    expect(
      applyFirstContactNotice({ text: 'Hello again', orgName: 'Acme', lastMessageAt, now }).added.optOut,
    ).toBe(false);
    expect(
      applyFirstContactNotice({ text: 'Hello again', orgName: 'Acme', lastMessageAt, now, silenceDays: 7 })
        .text,
    ).toBe('Acme: Hello again. Reply STOP to opt out.');
  });

  it('does not repeat what the text already says', () => {
    const result = applyFirstContactNotice({
      text: 'Hi, this is Sam from Acme. Text STOP to unsubscribe.',
      orgName: 'acme',
      lastMessageAt: null,
      now,
    });
    expect(result.text).toBe('Hi, this is Sam from Acme. Text STOP to unsubscribe.');
  });

  it('counts the segments of the final text, notice included', () => {
    const result = applyFirstContactNotice({
      text: 'a'.repeat(140),
      orgName: 'Acme',
      lastMessageAt: null,
      now,
    });
    expect(result.segments.segments).toBe(2);
  });
});

describe('GSM-7 suggestions', () => {
  it('offers GSM replacements that bring a message back to 160-character segments', () => {
    const result = suggestGsmReplacements('Thanks “Dana” — it’s ready…');
    expect(result.text).toBe('Thanks "Dana" - it\'s ready...');
    expect(result.before.encoding).toBe('UCS-2');
    expect(result.after.encoding).toBe('GSM-7');
    expect(result.suggestions).toContainEqual({ char: '“', replacement: '"', count: 1 });
  });

  it('strips accents the GSM alphabet lacks and leaves emoji to the rep', () => {
    const result = suggestGsmReplacements('Café ā 👋');
    expect(result.suggestions).toEqual([{ char: 'ā', replacement: 'a', count: 1 }]);
    expect(result.unreplaceable).toEqual(['👋']);
  });
});
