/** The labels the inbound classifier gives, shared by its rule files. */
export type InboundLabel = 'opt_out' | 'opt_in' | 'help' | 'ambiguous' | 'normal';

/** The classifier's answer and the rule that produced it, in words a reviewer can check. */
export interface InboundClassification {
  label: InboundLabel;
  reason: string;
}
