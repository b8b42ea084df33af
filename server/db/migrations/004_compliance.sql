-- Compliance integration (#4): redacted inbound texts, the card-details warning reply, and
-- sends paused for a person's review after an unclear opt-out.

-- Which sensitive spans were replaced before the text was stored ([{kind, start, end, label}],
-- offsets into the stored body); NULL when nothing was redacted.
ALTER TABLE messages ADD COLUMN redactions jsonb;

ALTER TABLE messages DROP CONSTRAINT messages_purpose_check;
ALTER TABLE messages ADD CONSTRAINT messages_purpose_check
  CHECK (purpose IN ('conversation', 'opt_out_confirmation', 'opt_in_confirmation', 'help_reply', 'card_warning',
                     'opt_in_request'));

-- The card warning goes out at most once per conversation per day; this finds the last one.
CREATE INDEX messages_conversation_purpose ON messages (conversation_id, purpose, created_at DESC)
  WHERE purpose <> 'conversation';

-- An inbound text that may be an opt-out ("not interested anymore") pauses conversation sends to
-- that (org, phone) until a person decides. At most one open review per (org, phone).
CREATE TABLE consent_reviews (
  id            uuid PRIMARY KEY,
  org_id        uuid NOT NULL REFERENCES orgs(id),
  phone_e164    text NOT NULL,
  message_id    uuid NOT NULL REFERENCES messages(id),
  reason        text NOT NULL,
  status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'opted_out', 'kept')),
  decided_by    text,
  note          text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  decided_at    timestamptz
);
CREATE UNIQUE INDEX consent_reviews_one_open ON consent_reviews (org_id, phone_e164) WHERE status = 'open';
CREATE INDEX consent_reviews_org ON consent_reviews (org_id, status, created_at DESC);

CREATE OR REPLACE FUNCTION message_dto(m messages, sent_by text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', m.id,
    'conversationId', m.conversation_id,
    'direction', m.direction,
    'from', m.from_e164,
    'to', m.to_e164,
    'body', m.body,
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

-- Per revocation the ledger keeps which classifier rule (or reviewer) read the text as such.
ALTER TABLE consent_events ADD COLUMN classification text;

-- What was redacted is part of the append-only record, like the body it describes.
CREATE OR REPLACE FUNCTION messages_guard_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id <> OLD.id OR NEW.org_id <> OLD.org_id OR NEW.conversation_id <> OLD.conversation_id
     OR NEW.direction <> OLD.direction OR NEW.from_e164 <> OLD.from_e164 OR NEW.to_e164 <> OLD.to_e164
     OR NEW.body <> OLD.body OR NEW.created_at <> OLD.created_at
     OR NEW.idempotency_key IS DISTINCT FROM OLD.idempotency_key
     OR NEW.redactions IS DISTINCT FROM OLD.redactions THEN
    RAISE EXCEPTION 'messages are append-only: only delivery fields may change'
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END;
$$;

-- Double opt-in (orgs.settings.doubleOptIn): an opt-in a rep records (API, web form, verbal) waits
-- here until the customer answers YES to the confirmation text; only then is it in the ledger.
CREATE TABLE consent_requests (
  id                    uuid PRIMARY KEY,
  org_id                uuid NOT NULL REFERENCES orgs(id),
  phone_e164            text NOT NULL,
  source                text NOT NULL,
  evidence              text NOT NULL,
  actor                 text NOT NULL,
  status                text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'superseded')),
  request_message_id    uuid REFERENCES messages(id),
  confirmed_message_id  uuid REFERENCES messages(id),
  created_at            timestamptz NOT NULL DEFAULT now(),
  decided_at            timestamptz
);
CREATE UNIQUE INDEX consent_requests_one_pending ON consent_requests (org_id, phone_e164) WHERE status = 'pending';
