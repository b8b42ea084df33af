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
}

export const MAX_GSM_CHARS = 1600;
export const MAX_UCS2_CHARS = 737;

export function countSegments(text: string): SegmentInfo {
  let septets = 0;
  const nonGsm = new Set<string>();
  for (const ch of text) {
    if (basic.has(ch)) septets += 1;
    else if (extended.has(ch)) septets += 2;
    else nonGsm.add(ch);
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
  };
}
