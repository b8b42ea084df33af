-- CRM sync (#6). The sync worker follows two append-only logs per connection — `events`
-- (messages) and `consent_events` (the ledger) — with its own (tx_id, id) cursors, the same
-- commit-safe rule as the live event hub: it only reads rows of transactions older than every
-- running one, so a late commit never slips behind a cursor. What it reads becomes rows of
-- `crm_sync_jobs`, a durable queue claimed with FOR UPDATE SKIP LOCKED and leases.

-- The consent ledger gets the same commit-order column as `events` (rows keep being append-only).
ALTER TABLE consent_events ADD COLUMN tx_id bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX consent_events_org_cursor ON consent_events (org_id, tx_id, id);

-- One connected CRM per org and kind. `secrets` is an AES-256-GCM envelope (server/crypto/secrets.ts)
-- of the tokens; `settings` holds only what is not secret (URLs, portal id, client id).
CREATE TABLE crm_connections (
  id                  uuid PRIMARY KEY,
  org_id              uuid NOT NULL REFERENCES orgs(id),
  crm                 text NOT NULL CHECK (crm IN ('hubspot', 'salesforce', 'sandbox')),
  settings            jsonb NOT NULL DEFAULT '{}'::jsonb,
  secrets             text NOT NULL,
  status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'auth_failed', 'needs_attention', 'disconnected')),
  status_detail       text,
  event_cursor_tx     bigint NOT NULL,
  event_cursor_id     bigint NOT NULL,
  consent_cursor_tx   bigint NOT NULL,
  consent_cursor_id   bigint NOT NULL,
  -- The CRM's own opaque watermark for readConsentChanges (CRM-side opt-outs).
  crm_watermark       text,
  next_poll_at        timestamptz NOT NULL DEFAULT now(),
  -- Set after a 429 (or a nearly used quota): nothing is sent to this CRM before it.
  paused_until        timestamptz NOT NULL DEFAULT now(),
  lease_until         timestamptz,
  lease_owner         text,
  backfill_checkpoint jsonb,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, crm)
);

-- kind: message (log one message on its contact's timeline), consent (project a phone's derived
-- consent), crm_optout (an opt-out made in the CRM whose record the relay does not know yet).
CREATE TABLE crm_sync_jobs (
  id             bigserial PRIMARY KEY,
  connection_id  uuid NOT NULL REFERENCES crm_connections(id) ON DELETE CASCADE,
  org_id         uuid NOT NULL REFERENCES orgs(id),
  kind           text NOT NULL CHECK (kind IN ('message', 'consent', 'crm_optout')),
  subject        text NOT NULL,
  state          text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'working', 'done', 'dead')),
  attempts       integer NOT NULL DEFAULT 0,
  available_at   timestamptz NOT NULL DEFAULT now(),
  lease_until    timestamptz,
  claimed_by     text,
  last_error     text,
  note           text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
-- A message is logged once per connection, whatever number of events mention it.
CREATE UNIQUE INDEX crm_sync_jobs_message_once ON crm_sync_jobs (connection_id, subject) WHERE kind = 'message';
-- Consent changes of one phone collapse while they wait: the job projects the latest status.
CREATE UNIQUE INDEX crm_sync_jobs_consent_waiting ON crm_sync_jobs (connection_id, kind, subject)
  WHERE kind IN ('consent', 'crm_optout') AND state = 'queued';
CREATE INDEX crm_sync_jobs_ready ON crm_sync_jobs (connection_id, kind, available_at, id) WHERE state = 'queued';
CREATE INDEX crm_sync_jobs_leased ON crm_sync_jobs (lease_until) WHERE state = 'working';

-- Permanent failures, for an admin to read and replay (GET/POST /v1/admin/crm/dead-letters).
CREATE TABLE crm_dead_letters (
  id             uuid PRIMARY KEY,
  org_id         uuid NOT NULL REFERENCES orgs(id),
  connection_id  uuid NOT NULL REFERENCES crm_connections(id) ON DELETE CASCADE,
  job_id         bigint NOT NULL REFERENCES crm_sync_jobs(id) ON DELETE CASCADE,
  kind           text NOT NULL,
  subject        text NOT NULL,
  error_code     text NOT NULL,
  error_message  text NOT NULL,
  attempts       integer NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  replayed_at    timestamptz,
  replayed_by    text
);
CREATE INDEX crm_dead_letters_org ON crm_dead_letters (org_id, created_at DESC, id);

-- Which CRM record(s) a phone belongs to, learned from lookups (ref_id NULL: none found, as of checked_at).
CREATE TABLE crm_contact_links (
  connection_id  uuid NOT NULL REFERENCES crm_connections(id) ON DELETE CASCADE,
  phone_e164     text NOT NULL,
  object_type    text NOT NULL DEFAULT '',
  ref_id         text NOT NULL DEFAULT '',
  checked_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, phone_e164, object_type, ref_id)
);
CREATE INDEX crm_contact_links_ref ON crm_contact_links (connection_id, ref_id);

-- A consent change reaches the CRM within a second or so: it wakes the sync workers at commit
-- (statement-level, so a batch of ledger rows costs one notification; consent rows are rare).
CREATE FUNCTION crm_sync_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('crm_sync', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER consent_events_wake_crm_sync AFTER INSERT ON consent_events
  FOR EACH STATEMENT EXECUTE FUNCTION crm_sync_notify();
