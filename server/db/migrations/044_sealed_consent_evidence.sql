-- Encryption at rest, continued (issue #18, item 1): the consent ledger's evidence (often the
-- customer's own words: "STOP texting me about my appointment") is sealed like message texts,
-- under the org's data key, bound to its ledger entry (server/stores/consent-evidence.ts).
-- NULL: evidence in clear, written before this migration, until the re-seal pass seals it.
ALTER TABLE consent_events ADD COLUMN evidence_key integer;

-- The ledger stays append-only, with one change allowed: re-sealing the evidence under another
-- data key of the org (evidence and evidence_key change together, nothing else does). Deleting
-- stays forbidden.
CREATE FUNCTION consent_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.evidence_key IS NOT NULL AND NEW.evidence_key IS DISTINCT FROM OLD.evidence_key
     AND to_jsonb(NEW) - 'evidence' - 'evidence_key' = to_jsonb(OLD) - 'evidence' - 'evidence_key' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;

DROP TRIGGER consent_events_append_only ON consent_events;
CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
  FOR EACH ROW EXECUTE FUNCTION consent_events_guard();
