-- Managers are mailed about each new payment hold (server/payments/hold-alerts.ts). A hold is
-- claimed for mailing (alert_attempt_at, by the relay's clock; a claim older than five minutes is
-- taken again, so a relay that stopped mid-way or a mail server that refused is retried) and marked
-- alerted_at once every manager's mail was handed over. Holds from before this are not news.
ALTER TABLE payment_holds ADD COLUMN alert_attempt_at timestamptz;
ALTER TABLE payment_holds ADD COLUMN alerted_at timestamptz;
UPDATE payment_holds SET alerted_at = created_at;
CREATE INDEX payment_holds_unalerted ON payment_holds (created_at) WHERE alerted_at IS NULL;
