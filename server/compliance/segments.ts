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

const basic = new Set(Array.from(GSM_BASIC));
const extended = new Set(Array.from(GSM_EXTENDED));

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
  for (const ch of text) {
    if (basic.has(ch)) septets += 1;
    else if (extended.has(ch)) {
      septets += 2;
      twice.add(ch);
    } else nonGsm.add(ch);
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
