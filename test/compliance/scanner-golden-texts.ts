/**
 * The texts of the scanner's golden record (#20): every corpus text, each also written the ways
 * the scanner must see through (case, tabs, line breaks, underscores, doubled spaces, other
 * scripts' digits, invisible characters) and joined in seeded random pairs, so a faster scanner
 * can be held to the very findings and redactions the scanner gave before it was made faster.
 * Only `record-scanner-golden.ts` calls this; the test reads the recorded texts from the fixture.
 */
import { loadCorpus, loadCorpusFile, repoCorpusPath } from './corpus-metrics.ts';

/** Phrases that reach the corners of the finders the corpora may not. */
const EXTRA = [
  'call me at 555-867-5309 tomorrow',
  'order 123e4567-e89b-12d3-a456-426614174000 shipped',
  'id 4242424242424242-x',
  'SKU-4242424242424242',
  'ref 4111 1111 1111',
  'card 4111 1111 then 1111 1111',
  'my itin is 912-70-1234',
  'ssn 123456789',
  'zip 12345-6789',
  'routing 021000021 account 1234-5678-90',
  'my account 12345678 at the bank',
  'account 12345678',
  'take 10mg twice, 2.5 mg at night',
  'your BP 120/80, blood pressure was fine',
  'A1C of 6.1; ldl:130',
  'MRN# 00123 medical record no 5',
  'member id AB123, medicare part B card',
  'A/B test results are back',
  'the lithium-ion cells arrived',
  'the Great Depression lecture',
  'cancer horoscope today',
  'refill your water bottle, ink refill too',
  'hiv clinic at 3, also a hive',
  'stage iii cancer; gene variant',
  'the thyroid panel results shows',
  'your x-ray results; xray showed',
  'ob/gyn and obgyn visit',
  'therapy session then counseling session',
  '4242\u200b4242\u200b4242\u20094242',
  '\uff14\uff12\uff14\uff12 \uff14\uff12\uff14\uff12 \uff14\uff12\uff14\uff12 \uff14\uff12\uff14\uff12',
  '\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662',
  'Caf\u00e9 card 5555 5555 5555 4444 exp 12/29',
  'ARR\u00caT pregnancy test results',
  '4\u20e32\u20e34\u20e32\u20e34242424242424242',
  'tests\tresults came\nback positive',
  'my_card_4242_4242_4242_4242',
  'cvv 123 exp 01/30 for 4000056655665556',
];

/** A small seeded generator (mulberry32), so the texts are the same on every machine. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fullWidth = (s: string) => s.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)));

const VARIANTS: ReadonlyArray<(s: string) => string> = [
  (s) => s,
  (s) => s.toUpperCase(),
  (s) => s.toLowerCase(),
  (s) => s.replaceAll(' ', '\t'),
  (s) => s.replaceAll(' ', '\r\n'),
  (s) => s.replaceAll(' ', '_'),
  (s) => s.replaceAll(' ', '  '),
  (s) => s.replaceAll('-', '\u2013'),
  fullWidth,
  (s) => s.replace(/(\d)(\d)/g, '$1\u200b$2'),
  (s) => `Hi, ${s} thanks!`,
];

/** The seed texts: every corpus the repository and the shared folder hold, and the phrases above. */
function seeds(): string[] {
  const shared = ['optout-dev.json', 'sensitive-dev.json'].flatMap((name) => {
    const items = loadCorpus(name);
    if (items === null) throw new Error(`corpus ${name} is missing (set CORPORA_DIR)`);
    return items.map((i) => i.text);
  });
  const repo = (loadCorpusFile(repoCorpusPath('optout-dev.json')) ?? []).map((i) => i.text);
  return [...new Set([...shared, ...repo, ...EXTRA])];
}

export function goldenTexts(pairs = 800): string[] {
  const base = seeds();
  const texts = base.flatMap((s) => VARIANTS.map((v) => v(s)));
  const random = seeded(20);
  const pick = () => base[Math.floor(random() * base.length)] as string;
  for (let i = 0; i < pairs; i++) texts.push(`${pick()}${random() < 0.5 ? ' ' : ', '}${pick()}`);
  return [...new Set(texts)];
}
