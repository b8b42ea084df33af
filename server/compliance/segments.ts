/**
 * SMS segment arithmetic (GSM 03.38 vs UCS-2), pure so the panel can show the same count the
 * relay bills. Limits follow Plivo: 160/153 GSM-7 characters, 70/67 UCS-2 code units, at most
 * 1,600 GSM-7 characters or 737 UCS-2 characters in one message.
 */

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
// Extension-table characters cost two septets (escape + char).
const GSM_EXTENDED = '^{}\\[~]|€\f';

/**
 * Per UTF-16 unit: 1 a basic GSM-7 character, 2 an extension one, 0 neither (every GSM character
 * is one unit). A table, as every send counts its text's segments, twice with a notice (#20).
 */
const BASIC = 1;
const EXTENDED = 2;
const GSM = new Uint8Array(0x10000);
for (const ch of GSM_BASIC) GSM[ch.charCodeAt(0)] = BASIC;
for (const ch of GSM_EXTENDED) GSM[ch.charCodeAt(0)] = EXTENDED;

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SegmentInfo {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) the text occupies. */
  units: number;
  segments: number;
  /** Units left in the last segment before another one starts. */
  remainingInSegment: number;
  /** Characters that forced UCS-2, so the composer can point at them. */
  nonGsmCharacters: string[];
  /** Whether the text fits the provider's maximum message length. */
  withinLimit: boolean;
  /** The text's length as the maximum counts it: septets (GSM-7) or characters (UCS-2). */
  length: number;
  /** The most one message may hold in this encoding (MAX_GSM_CHARS or MAX_UCS2_CHARS). */
  maxLength: number;
  /** GSM-7 extension characters in the text (€, [, ], …): each counts as two. */
  countedTwice: string[];
}

export const MAX_GSM_CHARS = 1600;
export const MAX_UCS2_CHARS = 737;

export function countSegments(text: string): SegmentInfo {
  let septets = 0;
  const nonGsm = new Set<string>();
  const twice = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const gsm = GSM[code] as number;
    if (gsm === BASIC) septets += 1;
    else if (gsm === EXTENDED) {
      septets += 2;
      twice.add(text[i] as string);
    } else if (isHighSurrogate(code) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      // A character beyond the BMP (an emoji): one character, as iterating the string gives it.
      nonGsm.add(text.slice(i, i + 2));
      i += 1;
    } else nonGsm.add(text[i] as string);
  }
  if (nonGsm.size === 0) {
    const single = 160;
    const multi = 153;
    const segments = septets === 0 ? 0 : septets <= single ? 1 : Math.ceil(septets / multi);
    const capacity = segments <= 1 ? single : segments * multi;
    return {
      encoding: 'GSM-7',
      units: septets,
      segments,
      remainingInSegment: capacity - septets,
      nonGsmCharacters: [],
      withinLimit: septets <= MAX_GSM_CHARS,
      length: septets,
      maxLength: MAX_GSM_CHARS,
      countedTwice: [...twice],
    };
  }
  const units = text.length; // UTF-16 code units, which is what UCS-2 segments count
  const single = 70;
  const multi = 67;
  const segments = units <= single ? 1 : Math.ceil(units / multi);
  const capacity = segments <= 1 ? single : segments * multi;
  return {
    encoding: 'UCS-2',
    units,
    segments,
    remainingInSegment: capacity - units,
    nonGsmCharacters: [...nonGsm],
    withinLimit: Array.from(text).length <= MAX_UCS2_CHARS,
    length: Array.from(text).length,
    maxLength: MAX_UCS2_CHARS,
    countedTwice: [],
  };
}

/**
 * A text's length against the most one message holds, in words a rep acts on:
 * "2,000 characters; at most 1,600 fit in one text".
 */
export function lengthAgainstLimit(info: SegmentInfo): string {
  const count = (n: number) => n.toLocaleString('en-US');
  const special = info.encoding === 'UCS-2' ? ' with emoji or other special characters' : '';
  const twice = info.countedTwice.slice(0, 3);
  const doubled =
    twice.length === 0 ? '' : ` (${twice.join(' ')} ${twice.length === 1 ? 'counts' : 'count'} as two)`;
  return `${count(info.length)} characters${doubled}; at most ${count(info.maxLength)} fit in one text${special}`;
}
