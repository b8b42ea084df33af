-- Issue #5: the client that starts a SAML sign-in (the extension) may pass a random state; the relay
-- keeps it with the request and hands it back next to the one-time code, so the client can refuse a
-- code from a sign-in it did not start (login CSRF).
ALTER TABLE saml_requests ADD COLUMN client_state text;
