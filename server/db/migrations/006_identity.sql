-- Identity and access (#7): passwords, sessions with rotating refresh tokens, TOTP, custom
-- roles, single-use mail links, SQL-backed throttling, an append-only auth event log.

ALTER TABLE users
  ADD COLUMN password_hash      text,
  ADD COLUMN email_verified_at  timestamptz,
  ADD COLUMN totp_secret        text,
  ADD COLUMN totp_enabled_at    timestamptz,
  ADD COLUMN totp_last_step     bigint,
  ADD COLUMN deactivated_at     timestamptz;
CREATE INDEX users_email ON users (email);

-- Who sent a message when the sender was a signed-in user (for "view own conversations").
ALTER TABLE messages ADD COLUMN sent_by_user_id uuid REFERENCES users(id);
CREATE INDEX messages_sent_by_user ON messages (sent_by_user_id, conversation_id) WHERE sent_by_user_id IS NOT NULL;
ALTER TABLE api_keys ADD COLUMN created_by_user_id uuid REFERENCES users(id);
CREATE INDEX api_keys_user ON api_keys (user_id) WHERE user_id IS NOT NULL;

-- Custom roles: named sets of the same permissions the built-in roles use.
CREATE TABLE roles (
  id           uuid PRIMARY KEY,
  org_id       uuid NOT NULL REFERENCES orgs(id),
  name         text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{1,39}$'),
  permissions  text[] NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, name)
);

-- A session is one refresh-token family; the current access token's hash lives on it.
CREATE TABLE auth_sessions (
  id                 uuid PRIMARY KEY,
  org_id             uuid NOT NULL REFERENCES orgs(id),
  user_id            uuid NOT NULL REFERENCES users(id),
  stage              text NOT NULL CHECK (stage IN ('full', 'enrol')),
  access_hash        bytea NOT NULL UNIQUE,
  access_expires_at  timestamptz NOT NULL,
  created_at         timestamptz NOT NULL,
  last_seen_at       timestamptz NOT NULL,
  revoked_at         timestamptz,
  revoked_reason     text,
  user_agent         text,
  ip                 text
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
  token_hash  bytea PRIMARY KEY,
  session_id  uuid NOT NULL REFERENCES auth_sessions(id),
  created_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Single-use, expiring links and challenges: MFA step, email verification, password reset.
CREATE TABLE auth_tokens (
  token_hash  bytea PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('mfa', 'verify_email', 'reset_password')),
  user_id     uuid NOT NULL REFERENCES users(id),
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id, kind);

CREATE TABLE recovery_codes (
  id          bigserial PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users(id),
  code_hash   bytea NOT NULL,
  used_at     timestamptz
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- Failed attempts, per account and per client address, shared by every relay process.
CREATE TABLE auth_attempts (
  id        bigserial PRIMARY KEY,
  scope     text NOT NULL,
  subject   text NOT NULL,
  at        timestamptz NOT NULL
);
CREATE INDEX auth_attempts_lookup ON auth_attempts (scope, subject, at);

CREATE TABLE auth_events (
  id           bigserial PRIMARY KEY,
  org_id       uuid REFERENCES orgs(id),
  user_id      uuid REFERENCES users(id),
  actor        text NOT NULL,
  kind         text NOT NULL,
  detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
  ip           text,
  occurred_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_events_org ON auth_events (org_id, id);
CREATE TRIGGER auth_events_append_only BEFORE UPDATE OR DELETE ON auth_events
  FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- The sandbox mail transport's outbox, shown on /sandbox/mail.
CREATE TABLE sandbox_mail (
  id          bigserial PRIMARY KEY,
  to_address  text NOT NULL,
  subject     text NOT NULL,
  body        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
