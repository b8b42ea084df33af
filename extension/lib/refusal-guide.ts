import { browser } from 'wxt/browser';

/**
 * What the panel tells a rep the first time they meet each kind of refusal (issue #17, item 6):
 * why the rule exists and what to do instead. After "Got it" only the refusal's own line shows.
 */
export const REFUSAL_GUIDE: Record<string, { why: string; instead: string }> = {
  OPTED_OUT: {
    why: 'The customer asked to stop getting texts. The law (TCPA) and the carriers forbid texting them again, whatever the reason.',
    instead: 'Call or email if they agreed to that. Only the customer can opt back in, by texting START.',
  },
  NO_CONSENT: {
    why: 'Nobody recorded that this customer agreed to texts. A text without consent can cost the company statutory damages.',
    instead:
      'Ask the customer (by phone or in person) and record their consent with how they gave it, then text.',
  },
  QUIET_HOURS: {
    why: 'Texts may not reach a customer before 8 a.m. or after 9 p.m. their time.',
    instead: 'Schedule the text: it leaves at the first allowed time in their time zone.',
  },
  SENSITIVE_CONTENT: {
    why: 'Card numbers, Social Security numbers and health details must never travel by SMS (PCI DSS, HIPAA): texts are not secure.',
    instead:
      'Remove the flagged part. Send a payment link for payments; share health details by phone or a secure portal.',
  },
  FREQUENCY_CAP: {
    why: 'This customer has had as many texts as the organisation allows in a short time; more reads as spam.',
    instead: 'Wait for their reply, or combine what you need to say into one text later.',
  },
  PAUSED_FOR_REVIEW: {
    why: 'The customer replied something that may mean “stop”. Texting is paused until a reviewer decides.',
    instead: 'Wait for the review, or call the customer to ask what they meant.',
  },
  BODY_TOO_LONG: {
    why: 'The text is longer than one SMS conversation can carry.',
    instead: 'Shorten it, or split it into two texts.',
  },
  UNKNOWN_TIME_ZONE: {
    why: 'The customer’s time zone could not be told from their number or record, so quiet hours cannot be checked.',
    instead: 'Add the customer’s address or time zone in the CRM, then send.',
  },
  SENDING_PAUSED: {
    why: 'An alert found unusual sending from your account, and your organisation pauses sending until someone looks.',
    instead:
      'Ask your administrator to review the alert; your queued texts wait and leave once it is resolved.',
  },
  POLICY_NOT_ACKNOWLEDGED: {
    why: 'Your organisation asks everyone to read its texting policy before texting, again when it changes and yearly.',
    instead: 'Open the policy from the link, read it and acknowledge it: it takes a minute. Then send again.',
  },
};

const STORAGE_KEY = 'refusalsExplained';

/** Which refusal codes this browser's rep has already had explained. */
export interface ExplainedStore {
  load(): Promise<string[]>;
  add(code: string): Promise<void>;
}

export const browserExplainedStore: ExplainedStore = {
  async load() {
    const stored = (await browser.storage.local.get(STORAGE_KEY))[STORAGE_KEY];
    return Array.isArray(stored) ? stored.filter((c): c is string => typeof c === 'string') : [];
  },
  async add(code) {
    const seen = new Set(await this.load());
    seen.add(code);
    await browser.storage.local.set({ [STORAGE_KEY]: [...seen] });
  },
};
