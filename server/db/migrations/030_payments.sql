-- Conversational payment links (issue #15). A rep asks for a payment; the text carries our own
-- link (/p/<token>); the customer pays on the provider's hosted page (Stripe Checkout), so no card
-- data ever reaches these tables: only the brand and last 4 the provider reports.

CREATE TABLE payment_requests (
  id                    uuid PRIMARY KEY,
  org_id                uuid NOT NULL REFERENCES orgs(id),
  -- SHA-256 of the link's 128-bit token: a dump of this table opens no payment page.
  token_hash            text NOT NULL UNIQUE,
  -- The client's Idempotency-Key: a retried request answers with the first one.
  idempotency_key       text NOT NULL,
  conversation_id       uuid REFERENCES conversations(id),
  message_id            uuid,
  sender_number_id      uuid,
  amount_minor          bigint NOT NULL CHECK (amount_minor > 0),
  currency              text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  description           text NOT NULL,
  reference             text,
  status                text NOT NULL CHECK (status IN ('sent', 'opened', 'checkout_started', 'processing',
                          'paid', 'failed', 'expired', 'canceled', 'partially_refunded', 'refunded', 'disputed')),
  provider              text NOT NULL,
  -- The current checkout attempt at the provider (a new one per attempt once one lapses).
  checkout_id           text,
  checkout_url          text,
  checkout_expires_at   timestamptz,
  attempts              integer NOT NULL DEFAULT 0,
  payment_id            text,
  expires_at            timestamptz NOT NULL,
  created_by_user_id    uuid,
  created_by_key_id     uuid,
  created_by_name       text,
  paid_amount_minor     bigint,
  paid_currency         text,
  card_brand            text,
  card_last4            text CHECK (card_last4 IS NULL OR card_last4 ~ '^[0-9]{4}$'),
  refunded_minor        bigint NOT NULL DEFAULT 0,
  -- Why a person must look at it (a paid amount that does not match, a payment after cancelling).
  review_reason         text,
  reminded_at           timestamptz,
  expiry_notified_at    timestamptz,
  created_at            timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL
);
CREATE UNIQUE INDEX payment_requests_idempotency ON payment_requests (org_id, idempotency_key);
CREATE INDEX payment_requests_org_recent ON payment_requests (org_id, created_at DESC, id DESC);
CREATE INDEX payment_requests_conversation ON payment_requests (conversation_id, created_at);
CREATE INDEX payment_requests_checkout ON payment_requests (checkout_id) WHERE checkout_id IS NOT NULL;
CREATE INDEX payment_requests_payment ON payment_requests (payment_id) WHERE payment_id IS NOT NULL;
-- The expiry sweep finds links that lapsed unpaid.
CREATE INDEX payment_requests_open_expiry ON payment_requests (expires_at)
  WHERE status IN ('sent', 'opened', 'checkout_started');

-- Every status a request passed through, oldest first (the thread and the CRM show them).
CREATE TABLE payment_status_events (
  id            bigserial PRIMARY KEY,
  request_id    uuid NOT NULL REFERENCES payment_requests(id),
  status        text NOT NULL,
  detail        jsonb NOT NULL DEFAULT '{}',
  occurred_at   timestamptz NOT NULL
);
CREATE INDEX payment_status_events_request ON payment_status_events (request_id, id);

-- Verified provider webhook events, once each (providers deliver duplicates and in any order);
-- processed from here, so an answer to the provider never waits on our processing.
CREATE TABLE payment_webhook_events (
  provider      text NOT NULL,
  event_id      text NOT NULL,
  kind          text NOT NULL,
  -- The normalised event (ids and amounts only; never card data).
  event         jsonb NOT NULL,
  received_at   timestamptz NOT NULL,
  processed_at  timestamptz,
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  PRIMARY KEY (provider, event_id)
);
CREATE INDEX payment_webhook_events_pending ON payment_webhook_events (received_at) WHERE processed_at IS NULL;

-- The sandbox provider's checkouts, so `npm start` has a hosted page to play the customer on.
CREATE TABLE sandbox_checkouts (
  id                text PRIMARY KEY,
  idempotency_key   text NOT NULL UNIQUE,
  request_id        uuid NOT NULL,
  org_id            uuid NOT NULL,
  amount_minor      bigint NOT NULL,
  currency          text NOT NULL,
  description       text NOT NULL,
  business_name     text NOT NULL,
  status            text NOT NULL,
  payment_status    text NOT NULL,
  payment_id        text,
  amount_refunded   bigint NOT NULL DEFAULT 0,
  success_url       text NOT NULL,
  cancel_url        text NOT NULL,
  expires_at        timestamptz NOT NULL,
  created_at        timestamptz NOT NULL
);
