-- When the session's user last proved a credential (sign-in, or POST /v1/auth/reauth). Sensitive
-- changes (configuring SSO, adding a second factor) need that proof within minutes, so a stolen
-- access token alone cannot make them. Sessions from before this column never count as recent.
ALTER TABLE auth_sessions ADD COLUMN authenticated_at timestamptz;
