-- Issue #13, low findings.
--
-- Finding 11: the key behind the decoy passkey credentials that passwordless sign-in names for an
-- email with no passkey (server/auth/passkeys.ts). It lives in the database, made once here, so
-- every relay process and every restart gives the same decoy for the same email: a decoy that
-- changed between two asks would tell an unknown email from a known one.
INSERT INTO instance_secrets (name, value)
VALUES ('passkey_decoy_key', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
ON CONFLICT (name) DO NOTHING;
