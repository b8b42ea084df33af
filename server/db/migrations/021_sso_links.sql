-- Issue #13, finding 1: a SAML assertion signs into an existing account only once that account is
-- linked to the IdP subject (NameID) of the org's identity provider. The link names the IdP's
-- entity id too, so replacing the IdP does not carry old links over to a new one.
ALTER TABLE users
  ADD COLUMN sso_idp_entity_id text,
  ADD COLUMN sso_name_id text,
  ADD COLUMN sso_linked_at timestamptz;

-- Offered when an assertion names an account that is not linked yet: the account's holder proves
-- their old credential once with this token (only its hash is stored), which records the link to
-- the subject of that assertion.
CREATE TABLE sso_link_requests (
  token_hash     bytea PRIMARY KEY,
  org_id         uuid NOT NULL REFERENCES orgs(id),
  user_id        uuid NOT NULL REFERENCES users(id),
  idp_entity_id  text NOT NULL,
  name_id        text NOT NULL,
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  used_at        timestamptz
);
CREATE INDEX sso_link_requests_expiry ON sso_link_requests (expires_at);
