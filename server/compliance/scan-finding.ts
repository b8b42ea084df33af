/** What the content scanner reports; each kind of finder returns these. */

/** The kinds of sensitive content: card data, SSNs, bank numbers, health information. */
export type FindingKind = 'card' | 'ssn' | 'bank' | 'phi';

/**
 * One sensitive span of the scanned text; `start`/`end` are UTF-16 offsets into the text as
 * written (not as normalised), end exclusive.
 */
export interface Finding {
  kind: FindingKind;
  start: number;
  end: number;
  detail: string;
}
