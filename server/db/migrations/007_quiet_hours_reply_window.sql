-- Org policy: a reply within a few minutes of the customer's own text may go out during quiet
-- hours. The thread remembers when the customer last wrote, and every such exception is kept.

ALTER TABLE conversations ADD COLUMN last_inbound_at timestamptz;
UPDATE conversations c SET last_inbound_at = (
  SELECT max(created_at) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'inbound'
);

-- Messages that left under a compliance exception, with the policy and the facts that allowed it.
CREATE TABLE compliance_exceptions (
  id          bigserial PRIMARY KEY,
  org_id      uuid NOT NULL REFERENCES orgs(id),
  message_id  uuid NOT NULL REFERENCES messages(id),
  policy      text NOT NULL,
  detail      jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX compliance_exceptions_org ON compliance_exceptions (org_id, created_at DESC);

CREATE TRIGGER compliance_exceptions_append_only BEFORE UPDATE OR DELETE ON compliance_exceptions
  FOR EACH ROW EXECUTE FUNCTION forbid_change();
