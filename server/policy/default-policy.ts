/**
 * The texting policy an org starts with (issue #17, item 6): the basics of the TCPA and CTIA
 * guidance, HIPAA and PCI DSS as they bear on a rep's texts (see ../shared/reference/
 * compliance-research.md). An admin edits it in the console; each edit is a new version everyone
 * acknowledges again.
 */
export const DEFAULT_TEXTING_POLICY = `Texting policy

Before you text a customer from this organisation's numbers, read this and confirm you follow it. The relay enforces much of it; you are responsible for the rest.

1. Consent (TCPA)
- Text only customers who agreed to receive texts from us, and only about what they agreed to.
- Record how and when a customer agreed when you mark them opted in; never mark an opt-in you were not given.
- A customer who replies STOP, or asks in any words to stop, gets no more texts. Never ask them to reconsider by text.
- Say who you are: the first text to a customer names the organisation.

2. Time of day
- Do not text before 8 a.m. or after 9 p.m. in the customer's time zone. The relay holds such texts; do not work around it.
- Do not text more often than the customer expects or our settings allow.

3. Health information (HIPAA)
- Never text diagnoses, test results, prescriptions, treatment details or anything else about a person's health unless our settings allow it and the customer asked for it in writing.
- Appointment reminders may say when and where, not why.

4. Card and account numbers (PCI DSS)
- Never ask a customer to text a card number, security code, bank account or Social Security number, and never text one.
- To take a payment, send a payment link from the panel; the customer pays on the provider's page.
- If a customer texts a card number anyway, the relay removes it; do not copy it anywhere.

5. Records
- Every text, opt-in and opt-out is kept as evidence. Do not delete, alter or move conversations off the record to avoid review.
- Report a mistake (a wrong number, a text sent in error) to your manager the same day.

Breaking this policy can expose the organisation to statutory damages and fines. Ask your administrator when in doubt.`;
