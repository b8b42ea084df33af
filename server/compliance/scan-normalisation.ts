/**
 * The one normalisation every content scan runs on (#13 finding 4). A number must be found however
 * it is written: full-width or mathematical digits (NFKC), digits of any script (Arabic-Indic,
 * Devanagari, …), invisible characters between the digits (zero-width space/joiner, BOM, soft
 * hyphen, bidi marks), and underscores, line breaks or unusual spaces and dashes between the
 * groups. The scanner looks at the normalised text; `originalSpan` maps what it finds back to the
 * text as written, so redaction replaces every character of the number, including the invisible
 * ones and the line break inside it.
 */

/** A text as the scanner sees it, with where each of its UTF-16 units came from. */
export interface NormalisedText {
  /** ASCII digits, single spaces between groups, `-` for every dash, no format characters. */
  text: string;
  /** `start[i]`/`end[i]`: the span of the original text that `text[i]` stands for. */
  start: readonly number[];
  end: readonly number[];
}

/**
 * Characters that show nothing and only change how neighbours render. They are dropped, so a
 * number cannot be split by them. Default_Ignorable adds what \p{Cf} misses: the combining
 * grapheme joiner, variation selectors, Hangul fillers and tag characters.
 */
const INVISIBLE = /^[\p{Cf}\p{Default_Ignorable_Code_Point}]$/u;
const MARK = /^\p{M}$/u;
const DECIMAL_DIGIT = /^\p{Nd}$/u;
/** Spaces of any width, line and paragraph breaks, tabs, NEL, and `_` all separate digit groups. */
const SEPARATOR = /^[\s\p{Z}_\u0085]$/u;
/** Hyphens, en/em dashes, the minus sign and their relatives are one dash to the scanner. */
const DASH = /^[\p{Pd}\u2212\u2796\u2e3a\u2e3b]$/u;

const asciiDigits = new Map<number, string>();

/**
 * The ASCII digit for any Unicode decimal digit. Unicode encodes every script's decimal digits
 * as a contiguous run from 0 to 9 (a stability guarantee), and where runs touch they are whole
 * sets of ten, so the distance from the start of the run, mod 10, is the digit's value.
 */
function asciiDigit(codePoint: number): string {
  const known = asciiDigits.get(codePoint);
  if (known !== undefined) return known;
  let first = codePoint;
  while (first > 0 && DECIMAL_DIGIT.test(String.fromCodePoint(first - 1))) first -= 1;
  const digit = String((codePoint - first) % 10);
  asciiDigits.set(codePoint, digit);
  return digit;
}

/** What the scanner makes of an ASCII character standing alone (no combining mark after it). */
type AsciiClass = 'drop' | 'digit' | 'separator' | 'dash' | 'keep' | 'slow';

/**
 * The class of every ASCII character, worked out once with the same tests the general path runs
 * (#20): most texts are ASCII, and three Unicode-property regexes per character were most of a
 * scan's time. A character NFKC would change (none in ASCII) is left to the general path.
 */
const ASCII_CLASS: readonly AsciiClass[] = Array.from({ length: 128 }, (_, code): AsciiClass => {
  const ch = String.fromCharCode(code);
  if (ch.normalize('NFKC') !== ch || MARK.test(ch)) return 'slow';
  if (INVISIBLE.test(ch)) return 'drop';
  if (DECIMAL_DIGIT.test(ch)) return 'digit';
  if (SEPARATOR.test(ch)) return 'separator';
  if (DASH.test(ch)) return 'dash';
  return 'keep';
});

/** Every combining mark is at U+0300 or above, so a unit below it never joins the character before. */
const FIRST_MARK = 0x300;

/** Normalises a text for scanning, keeping a map back to the original offsets. */
export function normaliseForScan(original: string): NormalisedText {
  return (ASCII_WHOLE && normaliseAscii(original)) || normalise(original, true);
}

const ASCII_WHOLE = !ASCII_CLASS.includes('slow');

/**
 * A text of ASCII alone, unit by unit from the class table: no combining mark can follow any of
 * its characters, so each stands alone, and splitting it into code points is not needed. Null at
 * the first unit that is not ASCII.
 */
function normaliseAscii(original: string): NormalisedText | null {
  let text = '';
  const start: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < original.length; i++) {
    const ascii = ASCII_CLASS[original.charCodeAt(i)];
    if (ascii === undefined) return null;
    if (ascii === 'separator' && text.endsWith(' ')) {
      end[end.length - 1] = i + 1;
      continue;
    }
    if (ascii === 'drop') continue;
    text += ascii === 'separator' ? ' ' : ascii === 'dash' ? '-' : (original[i] as string);
    start.push(i);
    end.push(i + 1);
  }
  return { text, start, end };
}

/** Per BMP code unit beyond ASCII: 0 not yet known, then STANDS or CHANGES (filled as met). */
const STANDS = 1;
const CHANGES = 2;
const standing = new Uint8Array(0x10000);

/**
 * Whether a unit beyond ASCII, followed by no combining mark, normalises to itself and is kept as
 * a character of no class (not a digit, separator, dash, mark or invisible character): é, ñ, ✋,
 * Cyrillic, CJK. The general path would give such a character back unchanged, offsets and all, so
 * a text of those and ASCII needs no normalisation (#20). Surrogates (astral characters) never do.
 */
export function standsAsIs(code: number): boolean {
  let known = standing[code] as number;
  if (known === 0) {
    const ch = String.fromCharCode(code);
    const stands =
      (code < 0xd800 || code > 0xdfff) &&
      ch.normalize('NFKC') === ch &&
      !INVISIBLE.test(ch) &&
      !MARK.test(ch) &&
      !DECIMAL_DIGIT.test(ch) &&
      !SEPARATOR.test(ch) &&
      !DASH.test(ch);
    known = stands ? STANDS : CHANGES;
    standing[code] = known;
  }
  return known === STANDS;
}

export const OWN_NOT = 0;
export const OWN_ALONE = 1;
export const OWN_SPACE = 2;
/**
 * Per ASCII code: stays as it is (a digit, a kept character, `-`), is the space (which stays when
 * alone), or is changed. The scan prefilter reads it in its own pass over the text.
 */
export const OWN_FORM = Uint8Array.from(ASCII_CLASS, (ascii, code) => {
  if (!ASCII_WHOLE) return OWN_NOT;
  if (ascii === 'keep' || ascii === 'digit' || (ascii === 'dash' && code === 45)) return OWN_ALONE;
  return ascii === 'separator' && code === 32 ? OWN_SPACE : OWN_NOT;
});

/** `normaliseForScan` without the ASCII shortcut: what the shortcut's property test compares with. */
export function normaliseEveryCharacter(original: string): NormalisedText {
  return normalise(original, false);
}

function normalise(original: string, asciiShortcut: boolean): NormalisedText {
  const out: string[] = [];
  const start: number[] = [];
  const end: number[] = [];
  const emit = (unit: string, from: number, to: number) => {
    out.push(unit);
    start.push(from);
    end.push(to);
  };

  const points = [...original];
  let offset = 0;
  let i = 0;
  while (i < points.length) {
    const base = points[i] as string;
    const from = offset;
    offset += base.length;
    i += 1;
    const code = base.charCodeAt(0);
    const ascii = asciiShortcut && code < 0x80 ? (ASCII_CLASS[code] as AsciiClass) : 'slow';
    if (ascii !== 'slow' && (i === points.length || (points[i] as string).charCodeAt(0) < FIRST_MARK)) {
      if (ascii === 'digit' || ascii === 'keep') emit(base, from, offset);
      else if (ascii === 'dash') emit('-', from, offset);
      else if (ascii === 'separator') {
        if (out.at(-1) === ' ') end[end.length - 1] = offset;
        else emit(' ', from, offset);
      }
      continue;
    }
    if (INVISIBLE.test(base)) continue;
    // A base character and its combining marks normalise together (NFKC composes across them).
    let cluster = base;
    while (i < points.length && MARK.test(points[i] as string)) {
      const mark = points[i] as string;
      offset += mark.length;
      i += 1;
      if (!INVISIBLE.test(mark)) cluster += mark;
    }
    const to = offset;
    const folded = [...cluster.normalize('NFKC')];
    const digitBase = folded.length > 0 && DECIMAL_DIGIT.test(folded[0] as string);
    for (const ch of folded) {
      if (DECIMAL_DIGIT.test(ch)) emit(asciiDigit(ch.codePointAt(0) as number), from, to);
      else if (SEPARATOR.test(ch)) {
        // A run of separators is one space, so a CRLF or a blank line joins groups like a space.
        if (out.at(-1) === ' ') end[end.length - 1] = to;
        else emit(' ', from, to);
      } else if (DASH.test(ch)) emit('-', from, to);
      // Marks on a digit (a keycap, an accent) mean nothing but would split the digit run; and
      // NFKC can expose an invisible character (compatibility forms), which shows nothing either.
      else if (!(digitBase && MARK.test(ch)) && !INVISIBLE.test(ch)) {
        for (const unit of ch.split('')) emit(unit, from, to);
      }
    }
  }
  return { text: out.join(''), start, end };
}

/** The span of the original text behind `[from, to)` of the normalised text (`to` > `from`). */
export function originalSpan(
  normalised: NormalisedText,
  from: number,
  to: number,
): { start: number; end: number } {
  return { start: normalised.start[from] as number, end: normalised.end[to - 1] as number };
}
