-- The org's texting policy, which every person acknowledges before they text (issue #17, item 6):
-- once, again when it changes, and yearly. Versions and acknowledgements are evidence (who agreed to
-- which words, when), so both are append-only; the latest of each is copied where the sign-in
-- query already reads (orgs, users), so a send checks it without a query of its own.
CREATE TABLE texting_policies (
  org_id      uuid NOT NULL REFERENCES orgs(id),
  version     integer NOT NULL CHECK (version >= 1),
  body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL,
  PRIMARY KEY (org_id, version)
);

CREATE TABLE policy_acknowledgements (
  org_id           uuid NOT NULL,
  user_id          uuid NOT NULL REFERENCES users(id),
  version          integer NOT NULL,
  acknowledged_at  timestamptz NOT NULL,
  PRIMARY KEY (user_id, acknowledged_at),
  -- An acknowledgement names a version that exists, in the user's own org.
  FOREIGN KEY (org_id, version) REFERENCES texting_policies (org_id, version)
);

CREATE TRIGGER texting_policies_append_only BEFORE UPDATE OR DELETE ON texting_policies
  FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER policy_acknowledgements_append_only BEFORE UPDATE OR DELETE ON policy_acknowledgements
  FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Null until the org's policy is first stored (its default is then version 1).
ALTER TABLE orgs ADD COLUMN policy_version integer;
ALTER TABLE users ADD COLUMN policy_acknowledged_version integer;
ALTER TABLE users ADD COLUMN policy_acknowledged_at timestamptz;
