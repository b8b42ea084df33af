-- Production delivery (issue #3): pacing per sender number and per provider account, webhook
-- replay protection, and status callbacks that arrive before we know the message.

ALTER TABLE sender_numbers ADD COLUMN next_send_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE outbox_jobs ADD COLUMN sender_number_id uuid REFERENCES sender_numbers(id);
UPDATE outbox_jobs j SET sender_number_id = n.id
  FROM messages m JOIN sender_numbers n ON n.e164 = m.from_e164
 WHERE m.id = j.message_id AND j.sender_number_id IS NULL;

-- One row per provider account: the next instant a request may start (account-wide ceiling).
CREATE TABLE provider_pacing (
  provider  text PRIMARY KEY,
  next_at   timestamptz NOT NULL DEFAULT now()
);

-- Nonces of verified webhooks, so a captured request cannot be replayed within the window.
CREATE TABLE webhook_nonces (
  provider     text NOT NULL,
  nonce        text NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, nonce)
);
CREATE INDEX webhook_nonces_age ON webhook_nonces (received_at);

-- Status callbacks for a provider id we have not recorded yet (the callback raced the worker's
-- commit, or the message is unknown): kept and applied once the id is known, never dropped.
CREATE TABLE unmatched_status_callbacks (
  id                   bigserial PRIMARY KEY,
  provider             text NOT NULL,
  provider_message_id  text NOT NULL,
  status               text NOT NULL,
  error_code           text,
  sequence             integer,
  params               jsonb NOT NULL,
  received_at          timestamptz NOT NULL DEFAULT now(),
  applied_at           timestamptz
);
CREATE INDEX unmatched_status_callbacks_lookup ON unmatched_status_callbacks (provider, provider_message_id)
  WHERE applied_at IS NULL;

-- Units and cost as the provider reports them.
ALTER TABLE messages ADD COLUMN provider_units integer;
ALTER TABLE messages ADD COLUMN provider_cost numeric(12, 5);
