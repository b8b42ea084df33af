-- SAML 2.0 single sign-on (#7): per-org IdP settings, the AuthnRequest ids we issued (for
-- InResponseTo) and the assertion ids already used (replay), shared by every relay process.

CREATE TABLE saml_settings (
  org_id         uuid PRIMARY KEY REFERENCES orgs(id),
  idp_entity_id  text NOT NULL,
  sso_url        text NOT NULL,
  idp_cert       text NOT NULL,
  default_role   text NOT NULL,
  sso_only       boolean NOT NULL DEFAULT false,
  updated_at     timestamptz NOT NULL
);

CREATE TABLE saml_requests (
  id          text PRIMARY KEY,
  org_id      uuid NOT NULL REFERENCES orgs(id),
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX saml_requests_expiry ON saml_requests (expires_at);

CREATE TABLE saml_assertions (
  org_id        uuid NOT NULL REFERENCES orgs(id),
  assertion_id  text NOT NULL,
  expires_at    timestamptz NOT NULL,
  PRIMARY KEY (org_id, assertion_id)
);
CREATE INDEX saml_assertions_expiry ON saml_assertions (expires_at);

-- One-time codes handed to a browser after a successful assertion (redirect), traded once for a
-- session by POST /v1/sso/saml/exchange; only the hash is stored.
CREATE TABLE saml_codes (
  code_hash   bytea PRIMARY KEY,
  org_id      uuid NOT NULL REFERENCES orgs(id),
  user_id     uuid NOT NULL REFERENCES users(id),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
