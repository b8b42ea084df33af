-- Passkeys (WebAuthn, #7): a second factor after the password, or passwordless sign-in with
-- user verification. Challenges live here too: single-use and expiring, like auth_tokens.

CREATE TABLE passkeys (
  id             uuid PRIMARY KEY,
  org_id         uuid NOT NULL REFERENCES orgs(id),
  user_id        uuid NOT NULL REFERENCES users(id),
  credential_id  text NOT NULL UNIQUE,            -- base64url, as the authenticator names it
  public_key     bytea NOT NULL,                  -- COSE key
  counter        bigint NOT NULL DEFAULT 0,       -- signature counter; never goes backwards
  transports     text[] NOT NULL DEFAULT '{}',
  device_type    text,
  backed_up      boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL,
  last_used_at   timestamptz
);
CREATE INDEX passkeys_user ON passkeys (user_id);

CREATE TABLE webauthn_challenges (
  challenge   text PRIMARY KEY,                  -- base64url, as sent in the options
  purpose     text NOT NULL CHECK (purpose IN ('register', 'second_factor', 'passwordless')),
  user_id     uuid REFERENCES users(id),
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX webauthn_challenges_user ON webauthn_challenges (user_id) WHERE user_id IS NOT NULL;
