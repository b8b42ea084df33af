-- One tamper-evident audit log per org (issue #18, item 2).
--
-- Every entry carries a sequence number per org and a SHA-256 hash over its own fields and the
-- previous entry's hash (server/audit/audit-chain.ts), so an edited, deleted, reordered or
-- inserted entry breaks the chain and `npm run cli -- audit verify` names the first bad one.
-- audit_chain_heads records each org's last sequence number and hash apart from the entries:
-- appends lock that row, so two concurrent appends never fork the chain, and a deleted last
-- entry shows as a head pointing past the end.
--
-- auth_events stays: its readers (sign-in throttling evidence, tests, the CRM admin's history)
-- keep working unchanged, and recordAuthEvent now writes both in the same transaction. Moving
-- those readers over is a later change; auth_events has no chain and is not what verify checks.
-- Events with no org (a failed sign-in for an unknown address) stay in auth_events only: the log
-- is per org, and no org's auditor may see them.
CREATE TABLE audit_log (
  org_id       uuid NOT NULL REFERENCES orgs(id),
  seq          bigint NOT NULL,
  actor        text NOT NULL,
  actor_name   text NOT NULL,
  action       text NOT NULL,
  target_type  text,
  target_id    text,
  occurred_at  timestamptz NOT NULL,
  before       jsonb,
  after        jsonb,
  detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
  ip           text,
  prev_hash    text NOT NULL,
  hash         text NOT NULL,
  PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_log_time ON audit_log (org_id, occurred_at, seq);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION forbid_change();

CREATE TABLE audit_chain_heads (
  org_id     uuid PRIMARY KEY REFERENCES orgs(id),
  last_seq   bigint NOT NULL,
  last_hash  text NOT NULL
);

-- The head only moves forward: it is never deleted and its sequence number never goes back.
CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR NEW.last_seq <= OLD.last_seq OR NEW.org_id <> OLD.org_id THEN
    RAISE EXCEPTION 'audit_chain_heads only moves forward';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER audit_chain_heads_forward BEFORE UPDATE OR DELETE ON audit_chain_heads
  FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only();
