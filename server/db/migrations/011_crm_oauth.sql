-- Issue #6: OAuth web flows that connect HubSpot / Salesforce from the admin UI.
-- One row per authorize link handed out: the `state` parameter (stored as its SHA-256 only) binds
-- the callback to the org and the admin who started it; it expires and is consumed once.
CREATE TABLE crm_oauth_states (
  state_hash  text PRIMARY KEY,
  org_id      uuid NOT NULL REFERENCES orgs(id),
  crm         text NOT NULL CHECK (crm IN ('hubspot', 'salesforce')),
  actor       text NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crm_oauth_states_expiry ON crm_oauth_states (expires_at);
