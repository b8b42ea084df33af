/**
 * Health-information indicators for the content scanner (HIPAA minimum necessary, research
 * section 6). A phone number is itself an identifier, so any of these in a text to a patient's
 * number is PHI. Each rule names its category; `unless` looks at ±30 characters around a match
 * to skip the business senses ("A/B test results", "lithium batteries", "Great Depression").
 */

import type { Finding } from './scan-finding.ts';
import { matchesOf } from './scan-matches.ts';

export interface PhiRule {
  detail: string;
  pattern: RegExp;
  unless?: RegExp;
  /**
   * Every match holds, at a word start (a word character with none before it), a word that begins
   * with one of these, in any case (#20: the scanner searches with a rule only when its text has
   * one; scan-prefilter.ts). Per alternative that is the term itself, up to its first optional or
   * repeated part ("tumo" for "tumou?rs?"), or a later word where the first is common ("your …
   * test results": "test"; "the … dose": "dose"; "\w+ panel": "panel"). A term of two or three
   * letters is its own start whatever follows it ("labresults" matches "\blab( test)? ?results").
   */
  starts: string;
  /** Also a number and "mg" ("10 mg") may begin a match. */
  dose?: boolean;
}

const w = (words: string) => words.trim().split(/\s+/).join('|');

export const PHI_RULES: readonly PhiRule[] = [
  {
    detail: 'test result',
    starts: `lab blood urine biopsy pathology mri x-ray xray ct pet pap covid strep flu pregnancy std sti hiv genetic dna
      allergy cholesterol thyroid lipid metabolic glucose a1c hba1c psa mammogram ultrasound screening drug`,
    pattern: new RegExp(
      `\\b(${w(`lab labs blood urine biopsy pathology mri x-?ray ct pet pap covid strep flu pregnancy std sti hiv genetic dna
        allergy cholesterol thyroid lipid metabolic glucose a1c hba1c psa mammogram ultrasound screening drug`)})` +
        '( test| tests| panel| screen| work| scan)? ?(results?|came back|is back|are back|shows?|showed|found|levels?)\\b',
      'gi',
    ),
    unless:
      /\b(a\/b|load|stress|unit|speed|beta|qa|performance|smoke|pen|drive|candidate|background|credit) test/i,
  },
  {
    detail: 'test result',
    starts: 'test lab scan screening came',
    pattern:
      /\b(your|my|his|her|their) (\w+ )?(test|tests|labs?|scan|screening) (results?|came back|is back|are back)\b|\btested (positive|negative)\b|\bcame back (abnormal|benign|malignant|positive|negative|clear)\b/gi,
    unless: /\b(a\/b|load|stress|unit|speed|beta|qa|performance|smoke|pen|drive|ab) test/i,
  },
  {
    detail: 'test result',
    starts: 'a1c hba1c ldl hdl psa inr egfr tsh glucose blood cholesterol bp panel',
    pattern:
      /\b(a1c|hba1c|ldl|hdl|psa|inr|egfr|tsh|glucose|blood sugar|cholesterol)\s*(level\s*)?(of|is|was|at|:)?\s*\d+(\.\d+)?\b|\b(blood pressure|bp)\b( (of|is|was|at))?\s*\d{2,3}\/\d{2,3}\b|\bblood pressure\b|\b\w+ panel (results?|shows?)\b/gi,
  },
  {
    detail: 'diagnosis or condition',
    starts: `diabetes diabetic prediabetes cancer tumo malignan carcinoma leukemia lymphoma melanoma hiv hep std sti
      chlamydia gonorr syphilis herpes hpv depression depressive bipolar schizophreni adhd autism autistic dementia
      alzheimer parkinson epilepsy seizure asthma copd pregnant pregnancy miscarriage abortion infertility ivf
      overdose addiction alcoholism opioid substance ptsd eating anorexia bulimia hypertension arrhythmia heart strep
      concussion brca allerg anxiety panic suicidal psychosis cirrhosis kidney lupus multiple tuberculosis`,
    pattern: new RegExp(
      `\\b(${w(`diabetes diabetic prediabetes cancer cancerous tumou?rs? malignan\\w* carcinoma leukemia lymphoma melanoma
        hiv hepatitis hep\\s?[abc] stds? stis chlamydia gonorrh?ea syphilis herpes hpv
        depression depressive bipolar schizophreni\\w* adhd autism autistic dementia alzheimer'?s? parkinson'?s? epilepsy
        seizures? asthma copd pregnant pregnancy miscarriage abortion infertility ivf overdosed? addiction alcoholism
        opioid\\s+use substance\\s+(use|abuse) ptsd eating\\s+disorder anorexia bulimia hypertension arrhythmia
        heart\\s+(attack|failure|disease) strep\\s+throat concussion brca[12]? allergy allergies allergic anxiety\\s+disorder
        panic\\s+attacks? suicidal psychosis cirrhosis kidney\\s+disease lupus multiple\\s+sclerosis tuberculosis`)})\\b`,
      'gi',
    ),
    unless:
      /\b(great|economic|tropical|market|sales) depression\b|\bhiv(e)?\b.*\bhive\b|\bcancer (sign|zodiac|horoscope)/i,
  },
  {
    detail: 'diagnosis or condition',
    starts: 'diagnosed diagnosis stage gene',
    pattern:
      /\bdiagnosed (with|as having)\b|\b(your|my|his|her|the patient's) diagnosis\b|\bstage [1-4i-v]+ (cancer|tumou?r|disease)\b|\b(genetic|gene) (variant|mutation)\b/gi,
  },
  {
    detail: 'medication or treatment',
    dose: true,
    starts: `prescription prescribed rx refill insulin metformin sertraline zoloft prozac fluoxetine lexapro xanax
      adderall ritalin lithium methadone suboxone buprenorphine naloxone narcan oxycodone hydrocodone opioids
      antibiotic amoxicillin antidepressant antipsychotic chemo radiation dialysis physical infusion transplant
      surgery surgical birth prep truvada statin warfarin eliquis ozempic wegovy dose`,
    pattern: new RegExp(
      `\\b(${w(`prescriptions? prescribed rx refills? insulin metformin sertraline zoloft prozac fluoxetine lexapro xanax
        adderall ritalin lithium methadone suboxone buprenorphine naloxone narcan oxycodone hydrocodone opioids
        antibiotics? amoxicillin antidepressants? antipsychotics? chemo chemotherapy radiation\\s+therapy dialysis
        physical\\s+therapy infusion transplant surgery surgical birth\\s+control prep\\s+instructions truvada
        statins? warfarin eliquis ozempic wegovy`)})\\b|\\b\\d+(\\.\\d+)?\\s?mg\\b|\\b(your|the|a|his|her) (dose|dosage)\\b`,
      'gi',
    ),
    unless:
      /\blithium[- ](ion|batter\w*|cells?|polymer)\b|\b(plastic|cosmetic) surgery (clinic|center) (order|supplies)|\bdata (surgery|transplant)\b|\bink refill|\brefill (the|your) (water|coffee|paper|printer|tank|gas)/i,
  },
  {
    detail: 'specialty care',
    starts: `oncolog psychiatr psychologist psychotherapy session counseling mammogram colonoscopy endoscopy ob gynecolog
      urolog cardiolog neurolog fertility hiv std detox rehab prenatal sonogram planned methadone behavioral mental`,
    pattern: new RegExp(
      `\\b(${w(`oncology oncologist psychiatry psychiatrist psychiatric psychologist psychotherapy therapy\\s+session
        counseling\\s+session mammograms? colonoscopy endoscopy ob\\/?gyn obgyn gynecolog\\w* urolog\\w* cardiolog\\w*
        neurolog\\w* fertility\\s+clinic hiv\\s+clinic std\\s+clinic detox rehab\\s+(program|center|facility) prenatal
        sonogram planned\\s+parenthood methadone\\s+clinic behavioral\\s+health mental\\s+health`)})\\b`,
      'gi',
    ),
  },
  {
    detail: 'health identifier',
    starts: 'mrn medical medicare medicaid health insurance patient member',
    pattern:
      /\bMRN\b\s*[#:]?\s*\d*|\bmedical record (number|no|#)\b|\b(medicare|medicaid)\b( \w+)?( (claim|number|id|card|benefits|coverage|plan|#))?|\b(health|insurance|patient|member) id\b\s*[#:]?\s*\w*/gi,
  },
];

/**
 * Whether any rule's pattern matches: one search of their alternation, about twice as fast as a
 * search per rule, settles the texts with no health term, which is most of them (#20). It finds
 * a match exactly when one of the rules does, as long as they share their flags (a rule with
 * other flags turns it into a pattern that always matches) and none refers back to a group.
 */
const ANY_RULE = PHI_RULES.every((r) => r.pattern.flags === 'gi' && !/\\[1-9k]/.test(r.pattern.source))
  ? new RegExp(PHI_RULES.map((r) => `(?:${r.pattern.source})`).join('|'), 'i')
  : /(?:)/;

/** Every rule, as the bit mask `findPhi` takes: bit r stands for PHI_RULES[r]. */
export const ALL_PHI_RULES = 2 ** PHI_RULES.length - 1;

/**
 * Health-information indicators in the normalised text, skipping the business senses. `rules`
 * (bit r for PHI_RULES[r]) are the rules that may match: the others are not searched with (#20).
 */
export function findPhi(text: string, rules = ALL_PHI_RULES): Finding[] {
  const findings: Finding[] = [];
  if (rules === 0 || (rules === ALL_PHI_RULES && !ANY_RULE.test(text))) return findings;
  PHI_RULES.forEach((rule, r) => {
    if ((rules & (1 << r)) === 0) return;
    for (const m of matchesOf(text, rule.pattern)) {
      const start = m.index ?? 0;
      const end = start + m[0].length;
      const around = text.slice(Math.max(0, start - 30), Math.min(text.length, end + 30));
      if (rule.unless?.test(around)) continue;
      findings.push({ kind: 'phi', start, end, detail: rule.detail });
    }
  });
  return findings;
}
