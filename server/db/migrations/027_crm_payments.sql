-- Payment write-back to the CRM (#15 item 5). Every status change of a payment request queues a
-- 'payment' job per CRM connection of its org whose contact is linked (server/crm-sync/
-- payment-log.ts); the job writes the request as it is when the job runs, so the changes that
-- pile up while one waits (or while the CRM is down) collapse into one write of the latest state.
ALTER TABLE crm_sync_jobs DROP CONSTRAINT crm_sync_jobs_kind_check;
ALTER TABLE crm_sync_jobs ADD CONSTRAINT crm_sync_jobs_kind_check
  CHECK (kind IN ('message', 'consent', 'crm_optout', 'payment'));
-- One waiting job per connection and request (the subject is the request id).
CREATE UNIQUE INDEX crm_sync_jobs_payment_waiting ON crm_sync_jobs (connection_id, subject)
  WHERE kind = 'payment' AND state = 'queued';

-- The CRM entry each request got per connection (HubSpot note, Salesforce Task, sandbox entry):
-- passed back on the next write, so a CRM whose search lags its writes never gets a second entry.
CREATE TABLE crm_payment_entries (
  connection_id  uuid NOT NULL REFERENCES crm_connections(id) ON DELETE CASCADE,
  -- No foreign key: payment_requests comes in 030, after this file. A request is removed only
  -- before its text is sent, and nothing is queued for it before then.
  request_id     uuid NOT NULL,
  entry_id       text NOT NULL,
  -- The status the entry shows, and the deal/opportunity written with it (null: none named).
  status         text NOT NULL,
  deal_id        text,
  written_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, request_id)
);
CREATE INDEX crm_payment_entries_request ON crm_payment_entries (request_id);
