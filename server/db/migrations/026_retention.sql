-- Retention and legal hold (issue #18, item 3).

-- A body purged by retention: the text is gone ('' and no redaction spans, whose offsets pointed
-- into it), the row stays as metadata until the org's metadata period deletes it. The instant is
-- the relay's clock (server/clock.ts), like created_at, which the purge compares it with.
ALTER TABLE messages ADD COLUMN body_purged_at timestamptz;

-- Messages stay append-only, with exactly one more change allowed: the one-way purge of a body
-- (body to '', redactions to NULL, body_purged_at set once). Nothing can put a text back, and
-- nothing else about the message may change with it.
CREATE OR REPLACE FUNCTION messages_guard_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  purging boolean := OLD.body_purged_at IS NULL AND NEW.body_purged_at IS NOT NULL
                     AND NEW.body = '' AND NEW.redactions IS NULL;
BEGIN
  IF NEW.id <> OLD.id OR NEW.org_id <> OLD.org_id OR NEW.conversation_id <> OLD.conversation_id
     OR NEW.direction <> OLD.direction OR NEW.from_e164 <> OLD.from_e164 OR NEW.to_e164 <> OLD.to_e164
     OR NEW.created_at <> OLD.created_at
     OR NEW.idempotency_key IS DISTINCT FROM OLD.idempotency_key
     OR (NOT purging AND (NEW.body <> OLD.body OR NEW.redactions IS DISTINCT FROM OLD.redactions
                          OR NEW.body_purged_at IS DISTINCT FROM OLD.body_purged_at)) THEN
    RAISE EXCEPTION 'messages are append-only: only delivery fields may change'
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END;
$$;

-- A message's status history is append-only too, but it is metadata the org's policy ages out:
-- a DELETE is allowed only inside a retention purge transaction, which says so with the
-- transaction-local setting relay.retention_purge = 'on' (server/retention/purge.ts). UPDATE stays
-- forbidden everywhere. Consent, exception and audit tables keep forbid_change() untouched.
CREATE FUNCTION status_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND coalesce(current_setting('relay.retention_purge', true), '') = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;
DROP TRIGGER message_status_events_append_only ON message_status_events;
CREATE TRIGGER message_status_events_append_only BEFORE UPDATE OR DELETE ON message_status_events
  FOR EACH ROW EXECUTE FUNCTION status_events_guard();

-- Legal holds: while a hold is active (released_at NULL) retention touches nothing of that
-- contact phone (every conversation with it) or that conversation. Rows are never deleted; a
-- release is recorded, so the history of holds is itself evidence. Times are the relay's clock.
CREATE TABLE legal_holds (
  id               uuid PRIMARY KEY,
  org_id           uuid NOT NULL REFERENCES orgs(id),
  target_type      text NOT NULL CHECK (target_type IN ('phone', 'conversation')),
  phone_e164       text,
  conversation_id  uuid REFERENCES conversations(id),
  reason           text NOT NULL,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL,
  released_by      text,
  released_at      timestamptz,
  CONSTRAINT legal_holds_one_target CHECK (
    (target_type = 'phone' AND phone_e164 IS NOT NULL AND conversation_id IS NULL)
    OR (target_type = 'conversation' AND conversation_id IS NOT NULL AND phone_e164 IS NULL))
);
CREATE INDEX legal_holds_org_active ON legal_holds (org_id) WHERE released_at IS NULL;
CREATE INDEX legal_holds_org_created ON legal_holds (org_id, created_at DESC, id);

-- Age scans of the purge: an org's messages by age, and those whose body is still there.
CREATE INDEX messages_org_age ON messages (org_id, created_at);
CREATE INDEX messages_org_body_age ON messages (org_id, created_at) WHERE body_purged_at IS NULL;

-- Each purge batch asks "does a consent record or exception cite this message?" (those messages are
-- evidence and stay) and deleting a message makes PostgreSQL check every table that references it:
-- without these indexes both are a scan of the whole referencing table per message.
CREATE INDEX consent_events_message ON consent_events (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX consent_reviews_message ON consent_reviews (message_id);
CREATE INDEX consent_requests_request_message ON consent_requests (request_message_id)
  WHERE request_message_id IS NOT NULL;
CREATE INDEX consent_requests_confirmed_message ON consent_requests (confirmed_message_id)
  WHERE confirmed_message_id IS NOT NULL;
CREATE INDEX compliance_exceptions_message ON compliance_exceptions (message_id);
-- A purged message's copies in the live-event log (payload.message) are found by conversation.
CREATE INDEX events_conversation ON events (conversation_id) WHERE conversation_id IS NOT NULL;

-- One purge at a time across relays: a lease row (the database clock, as for every lease), so two
-- relays on one PostgreSQL never purge together and a crashed holder's lease simply runs out.
CREATE TABLE retention_lease (
  id           integer PRIMARY KEY CHECK (id = 1),
  owner        text,
  lease_until  timestamptz
);
INSERT INTO retention_lease (id) VALUES (1);
