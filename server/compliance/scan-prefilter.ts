/**
 * What a normalised text can hold at all, from one pass over its characters (#20). Most texts a
 * relay sees have no number and no health word; they need none of the finders' regexes. The
 * answers are conservative: `numbers` is false only where no card, SSN or bank finder can match,
 * and `phi` only where no PHI rule can (test/compliance/scan-prefilter.test.ts holds them to it).
 */

/** The fewest digits any card, SSN or bank-number pattern matches (a labelled account number's 6). */
const FEWEST_NUMBER_DIGITS = 6;

/**
 * Every PHI rule's match holds, at a word start (a word character with none before it), a word
 * beginning with one of these, in any case. Per rule (phi-terms.ts) the word chosen is one every
 * match of an alternative must contain: the term itself for the term lists (up to its first
 * optional or repeated part: "tumo" for "tumou?rs?", "schizophreni" for "schizophreni\w*"), and
 * for the phrases whose first word is common ("your …", "the …") a later one ("… test results",
 * "… diagnosis", "… dose"); "\w+ panel" has " panel". A term of three letters or fewer is itself
 * the word start, whatever follows ("labresults" matches "\blab( test)? ?results").
 */
const PHI_WORD_STARTS = `
  lab labs blood urine biopsy pathology mri x-ray xray ct pet pap covid strep flu pregnancy std sti hiv genetic
  dna allergy cholesterol thyroid lipid metabolic glucose a1c hba1c psa mammogram ultrasound screening drug
  test lab scan screening tested came
  ldl hdl inr egfr tsh bp panel
  diabetes diabetic prediabetes cancer tumo malignan carcinoma leukemia lymphoma melanoma hepatitis hep
  chlamydia gonorr syphilis herpes hpv depression depressive bipolar schizophreni adhd autism autistic dementia
  alzheimer parkinson epilepsy seizure asthma copd pregnant miscarriage abortion infertility ivf overdose
  addiction alcoholism opioid substance ptsd eating anorexia bulimia hypertension arrhythmia heart concussion
  brca allerg anxiety panic suicidal psychosis cirrhosis kidney lupus multiple tuberculosis
  diagnosed diagnosis stage gene
  prescription prescribed rx refill insulin metformin sertraline zoloft prozac fluoxetine lexapro xanax adderall
  ritalin lithium methadone suboxone buprenorphine naloxone narcan oxycodone hydrocodone opioids antibiotic
  amoxicillin antidepressant antipsychotic chemo radiation dialysis physical infusion transplant surgery surgical
  birth prep truvada statin warfarin eliquis ozempic wegovy dose
  oncolog psychiatr psychologist psychotherapy session counseling mammogram colonoscopy endoscopy ob gynecolog
  urolog cardiolog neurolog fertility detox rehab prenatal sonogram planned behavioral mental
  mrn medical medicare medicaid health insurance patient member
`;

const lower = (code: number): number => (code >= 65 && code <= 90 ? code + 32 : code);

/** The word starts by their first two characters, so a text's word is compared with a few only. */
const STARTS = new Map<number, string[]>();
for (const word of new Set(PHI_WORD_STARTS.trim().split(/\s+/))) {
  const key = (word.charCodeAt(0) << 8) | word.charCodeAt(1);
  STARTS.set(key, [...(STARTS.get(key) ?? []), word]);
}

/** Whether `text` at `at` begins, in any case, with one of the word starts. */
function startsPhiWord(text: string, at: number): boolean {
  if (at + 1 >= text.length) return false;
  const words = STARTS.get((lower(text.charCodeAt(at)) << 8) | lower(text.charCodeAt(at + 1)));
  if (words === undefined) return false;
  return words.some((word) => {
    if (at + word.length > text.length) return false;
    for (let k = 2; k < word.length; k++)
      if (lower(text.charCodeAt(at + k)) !== word.charCodeAt(k)) return false;
    return true;
  });
}

/** A word character as the PHI rules' `\b` and `\w` see it (no `u` flag: ASCII only). */
const isWord = (code: number): boolean =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;

export interface TextPrefilter {
  /** A card, SSN or bank number may be there: the text has enough digits. */
  numbers: boolean;
  /** A PHI rule may match: a health word starts somewhere, or a digit and "mg" ("10 mg"). */
  phi: boolean;
}

/** What the normalised `text` may hold; see the file's comment. */
export function prefilter(text: string): TextPrefilter {
  let digits = 0;
  let mg = false;
  let phi = false;
  let previousWord = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) digits += 1;
    const word = isWord(code);
    if (word && !previousWord && !phi) phi = startsPhiWord(text, i);
    if ((code === 103 || code === 71) && i > 0 && lower(text.charCodeAt(i - 1)) === 109) mg = true;
    previousWord = word;
  }
  return { numbers: digits >= FEWEST_NUMBER_DIGITS, phi: phi || (mg && digits > 0) };
}
