-- Encryption at rest, continued (issue #18, item 1): customers' phone numbers are stored as tokens
-- (server/crypto/phone-tokens.ts): a deterministic authenticated encryption under the
-- installation's phone key, so equal numbers give equal tokens and every lookup, join and
-- constraint keeps working. The relay turns the numbers already stored into tokens when it first
-- opens the database after this migration (server/crypto/phone-upgrade.ts), before it serves.
-- A business's own sender numbers (sender_numbers, and the sender side of a message) are public
-- and stay as they are.

-- The inbox's search by a number's last digits: keyed hashes of its last 4 to 10 digits.
ALTER TABLE conversations ADD COLUMN contact_tails text[];
CREATE INDEX conversations_contact_tails ON conversations USING gin (contact_tails);

-- Messages stay append-only; one more change is allowed: a number in clear becoming its token.
CREATE OR REPLACE FUNCTION messages_guard_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  purging boolean := OLD.body_purged_at IS NULL AND NEW.body_purged_at IS NOT NULL
                     AND NEW.body = '' AND NEW.redactions IS NULL AND NEW.body_key IS NULL;
  resealing boolean := NEW.body_key IS NOT NULL AND NEW.body_key IS DISTINCT FROM OLD.body_key
                       AND NEW.body_purged_at IS NOT DISTINCT FROM OLD.body_purged_at
                       AND NEW.redactions IS NOT DISTINCT FROM OLD.redactions;
  from_kept boolean := NEW.from_e164 = OLD.from_e164
                       OR (OLD.from_e164 NOT LIKE 'p1:%' AND NEW.from_e164 LIKE 'p1:%');
  to_kept boolean := NEW.to_e164 = OLD.to_e164
                     OR (OLD.to_e164 NOT LIKE 'p1:%' AND NEW.to_e164 LIKE 'p1:%');
BEGIN
  IF NEW.id <> OLD.id OR NEW.org_id <> OLD.org_id OR NEW.conversation_id <> OLD.conversation_id
     OR NEW.direction <> OLD.direction OR NOT from_kept OR NOT to_kept
     OR NEW.created_at <> OLD.created_at
     OR NEW.idempotency_key IS DISTINCT FROM OLD.idempotency_key
     OR (NOT purging AND NOT resealing
         AND (NEW.body <> OLD.body OR NEW.redactions IS DISTINCT FROM OLD.redactions
              OR NEW.body_purged_at IS DISTINCT FROM OLD.body_purged_at
              OR NEW.body_key IS DISTINCT FROM OLD.body_key)) THEN
    RAISE EXCEPTION 'messages are append-only: only delivery fields may change'
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END;
$$;

-- The consent ledger stays append-only; besides re-sealing its evidence, a number in clear may
-- become its token (nothing else changing).
CREATE OR REPLACE FUNCTION consent_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.evidence_key IS NOT NULL AND NEW.evidence_key IS DISTINCT FROM OLD.evidence_key
     AND to_jsonb(NEW) - 'evidence' - 'evidence_key' = to_jsonb(OLD) - 'evidence' - 'evidence_key' THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.phone_e164 NOT LIKE 'p1:%' AND NEW.phone_e164 LIKE 'p1:%'
     AND to_jsonb(NEW) - 'phone_e164' = to_jsonb(OLD) - 'phone_e164' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;
