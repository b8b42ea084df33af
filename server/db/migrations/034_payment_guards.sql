-- Issue #15 (6): guards on payment links. A hold stops what looks unusual until a manager looks:
-- a rep asking for too many links in an hour (the rep is held), one number sent link after link
-- (the number is held), an amount far above the rep's usual or a large amount to a number that
-- never texted in (that request needs approval: released, the same rep may ask that customer for
-- up to that amount for a day), and a link with failed card attempts one after another (card
-- testing: the link is held and stops taking payment). Nothing is deleted: a hold is released,
-- with who and when, and every step is in the audit log.
CREATE TABLE payment_holds (
  id            uuid PRIMARY KEY,
  org_id        uuid NOT NULL REFERENCES orgs(id),
  reason        text NOT NULL CHECK (reason IN ('links_per_hour', 'repeat_number', 'unknown_number',
                  'unusual_amount', 'card_testing')),
  -- Who it holds or concerns: a rep (user, or API key), a customer's number, one request.
  rep_user_id   uuid,
  rep_key_id    uuid,
  phone_e164    text,
  request_id    uuid REFERENCES payment_requests(id),
  amount_minor  bigint,
  currency      text,
  detail        jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL,
  released_at   timestamptz,
  released_by   text,
  release_note  text
);
CREATE INDEX payment_holds_org_open ON payment_holds (org_id, created_at DESC, id) WHERE released_at IS NULL;
CREATE INDEX payment_holds_org_recent ON payment_holds (org_id, created_at DESC, id);
CREATE INDEX payment_holds_request ON payment_holds (request_id) WHERE request_id IS NOT NULL;

-- Failed card attempts on a link, counted from the provider's payment_failed events.
ALTER TABLE payment_requests ADD COLUMN failed_attempts integer NOT NULL DEFAULT 0;
-- The customer's number, so the guards count links per number without reading messages.
ALTER TABLE payment_requests ADD COLUMN to_e164 text;
UPDATE payment_requests r SET to_e164 = m.to_e164 FROM messages m WHERE m.id = r.message_id;
CREATE INDEX payment_requests_org_phone ON payment_requests (org_id, to_e164, created_at DESC);
CREATE INDEX payment_requests_rep_recent ON payment_requests (org_id, created_by_user_id, created_at DESC);

-- Step-up: when the session's user last proved an authenticator code (sign-in or POST
-- /v1/auth/reauth with a code); a request above the org's threshold needs one within minutes.
ALTER TABLE auth_sessions ADD COLUMN second_factor_at timestamptz;

-- Refunds made from the relay, one row per provider refund: a retried refund (same
-- Idempotency-Key, so the same refund at the provider) is recorded once.
CREATE TABLE payment_refunds (
  request_id    uuid NOT NULL REFERENCES payment_requests(id),
  refund_id     text NOT NULL,
  amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
  reason        text,
  actor         text NOT NULL,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (request_id, refund_id)
);

-- The sandbox provider answers a retried refund like Stripe: the same refund for the same key.
CREATE TABLE sandbox_refunds (
  idempotency_key  text PRIMARY KEY,
  refund           jsonb NOT NULL
);

-- The installation's Stripe account, connected by `cli payments connect stripe`: the restricted key
-- and webhook secrets sealed with SECRETS_KEY (never stored in the clear); PAYMENT_PROVIDER=stripe
-- with STRIPE_* variables still wins over it.
CREATE TABLE payment_provider_connections (
  provider      text PRIMARY KEY CHECK (provider = 'stripe'),
  sealed        text NOT NULL,
  key_hint      text NOT NULL,
  livemode      boolean NOT NULL,
  connected_at  timestamptz NOT NULL,
  connected_by  text NOT NULL
);
