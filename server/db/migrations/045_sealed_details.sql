-- Encryption at rest, continued (issue #18, item 1): what a rep wrote about a customer outside a
-- text is sealed like the texts, under the org's data key, bound to its row:
--  * a pending double opt-in's evidence (the rep's note: "asked in clinic about her MRI results"),
--    bound to `consent_request:<id>` (server/stores/opt-in-requests.ts);
--  * a payment request's description and reference (what the customer pays for, often a treatment
--    or an account), bound to `payment_request:<id>:description` and `...:reference`
--    (server/payments/payment-details.ts), and the same in its `payment.updated` live events.
-- NULL: in clear, written before this migration, until the re-seal pass seals it.
ALTER TABLE consent_requests ADD COLUMN evidence_key integer;
ALTER TABLE payment_requests ADD COLUMN details_key integer;
