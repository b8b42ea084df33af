-- Encryption at rest (issue #18, item 1): message texts are sealed with AES-256-GCM under a data
-- key of their organisation; each data key is stored wrapped by the installation's master key
-- (server/crypto/key-provider.ts), so a copy of the database alone opens nothing.

-- An organisation's data keys, numbered from 1. One is active (new texts are sealed with it);
-- `keys rotate` makes a new one active and retires the old, whose texts a background pass
-- re-seals; a retired key nothing refers to any more is destroyed (its wrapped bytes removed).
CREATE TABLE org_data_keys (
  org_id      uuid NOT NULL REFERENCES orgs(id),
  key_no      integer NOT NULL CHECK (key_no > 0),
  wrapped     text,
  state       text NOT NULL CHECK (state IN ('active', 'retired', 'destroyed')),
  created_at  timestamptz NOT NULL,
  retired_at  timestamptz,
  -- When the background pass finished re-sealing every text of the org under this key (and
  -- destroyed the keys before it); NULL while it is due.
  resealed_at timestamptz,
  PRIMARY KEY (org_id, key_no),
  CHECK ((state = 'destroyed') = (wrapped IS NULL))
);
CREATE UNIQUE INDEX org_data_keys_one_active ON org_data_keys (org_id) WHERE state = 'active';

-- Which data key sealed a message's body: NULL for a body in clear (written before this
-- migration, until the background pass seals it) and for a purged body ('').
-- No index: the re-seal pass walks an org's texts by age (messages_org_body_age) once per key.
ALTER TABLE messages ADD COLUMN body_key integer;

-- Texts to numbers no org owns have no org key: they are sealed with the master key itself
-- (wrapped is the sealed text; body is '' once sealed).
ALTER TABLE unassigned_inbound ADD COLUMN body_sealed text;

-- The live event of a new message carries its sealed body and the key that opens it; the relay
-- opens it before anyone sees it (server/live/events.ts).
CREATE OR REPLACE FUNCTION message_dto(m messages, sent_by text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', m.id,
    'conversationId', m.conversation_id,
    'direction', m.direction,
    'from', m.from_e164,
    'to', m.to_e164,
    'body', m.body,
    'bodyKey', m.body_key,
    'purpose', m.purpose,
    'status', m.status,
    'segments', m.segments,
    'encoding', m.encoding,
    'errorCode', m.error_code,
    'errorMessage', m.error_message,
    'sentBy', sent_by,
    'redactions', coalesce(m.redactions, '[]'::jsonb),
    'createdAt', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'updatedAt', to_char(m.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  )
$$;

-- Append-only as before, with one more change allowed: re-sealing a body under another data key
-- of the same org (body and body_key change together, to a key that exists). The plaintext stays
-- the same; the database cannot check that, the relay's re-seal pass is the only writer.
CREATE OR REPLACE FUNCTION messages_guard_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  purging boolean := OLD.body_purged_at IS NULL AND NEW.body_purged_at IS NOT NULL
                     AND NEW.body = '' AND NEW.redactions IS NULL AND NEW.body_key IS NULL;
  resealing boolean := NEW.body_key IS NOT NULL AND NEW.body_key IS DISTINCT FROM OLD.body_key
                       AND NEW.body_purged_at IS NOT DISTINCT FROM OLD.body_purged_at
                       AND NEW.redactions IS NOT DISTINCT FROM OLD.redactions;
BEGIN
  IF NEW.id <> OLD.id OR NEW.org_id <> OLD.org_id OR NEW.conversation_id <> OLD.conversation_id
     OR NEW.direction <> OLD.direction OR NEW.from_e164 <> OLD.from_e164 OR NEW.to_e164 <> OLD.to_e164
     OR NEW.created_at <> OLD.created_at
     OR NEW.idempotency_key IS DISTINCT FROM OLD.idempotency_key
     OR (NOT purging AND NOT resealing
         AND (NEW.body <> OLD.body OR NEW.redactions IS DISTINCT FROM OLD.redactions
              OR NEW.body_purged_at IS DISTINCT FROM OLD.body_purged_at
              OR NEW.body_key IS DISTINCT FROM OLD.body_key)) THEN
    RAISE EXCEPTION 'messages are append-only: only delivery fields may change'
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END;
$$;
