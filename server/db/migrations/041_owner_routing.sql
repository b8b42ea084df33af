-- Issue #19 item 3: a first text from a customer goes to the CRM contact's owner. The inbound
-- transaction never calls the CRM: it marks the conversation as waiting for its owner and queues
-- one 'owner' job per connected CRM; the CRM sync worker looks the owner up and routes it. A
-- conversation still waiting after two minutes (CRM down or throttled) falls back to the number's
-- default assignee or the unassigned queue, and an assignment by hand meanwhile always wins.
ALTER TABLE conversations ADD COLUMN owner_lookup_since timestamptz;
-- Set once the first text has been routed (to its owner, or by the fallback): later texts on the
-- conversation follow its assignee and never ask the CRM again.
ALTER TABLE conversations ADD COLUMN owner_routed_at timestamptz;
-- The sweep that applies the fallback reads only the conversations still waiting.
CREATE INDEX conversations_owner_waiting ON conversations (owner_lookup_since)
  WHERE owner_lookup_since IS NOT NULL AND owner_routed_at IS NULL;

ALTER TABLE crm_sync_jobs DROP CONSTRAINT crm_sync_jobs_kind_check;
ALTER TABLE crm_sync_jobs ADD CONSTRAINT crm_sync_jobs_kind_check
  CHECK (kind IN ('message', 'consent', 'crm_optout', 'payment', 'owner'));
CREATE UNIQUE INDEX crm_sync_jobs_owner_waiting ON crm_sync_jobs (connection_id, subject)
  WHERE kind = 'owner' AND state = 'queued';
