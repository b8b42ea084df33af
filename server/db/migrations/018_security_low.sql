-- Issue #13, low findings.
--
-- Finding 11: the key behind the decoy passkey credentials that passwordless sign-in names for an
-- email with no passkey (server/auth/passkeys.ts). It lives in the database, made once here, so
-- every relay process and every restart gives the same decoy for the same email: a decoy that
-- changed between two asks would tell an unknown email from a known one.
INSERT INTO instance_secrets (name, value)
VALUES ('passkey_decoy_key', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
ON CONFLICT (name) DO NOTHING;

-- Finding 13: HubSpot webhook events already taken in, per connection. A signed request replayed
-- inside its 5-minute window, or a HubSpot retry of an event already applied, finds its key here
-- and is acknowledged without being applied again. received_at is bookkeeping (database clock):
-- rows older than HubSpot's retry period are pruned.
CREATE TABLE hubspot_webhook_events (
  connection_id  uuid NOT NULL REFERENCES crm_connections(id) ON DELETE CASCADE,
  event_key      text NOT NULL,
  received_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, event_key)
);
CREATE INDEX hubspot_webhook_events_received ON hubspot_webhook_events (received_at);
