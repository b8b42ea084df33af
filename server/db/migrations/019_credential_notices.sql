-- Live event streams are bound to the credential that opened them (#13, finding 2). Whatever
-- changes a credential's standing (a route, the CLI, an operator's SQL) announces it at commit
-- on 'relay_credentials', so every relay process re-checks the streams it holds for that org,
-- user, session, key or role. The payload names only ids: each listener re-reads the truth.
CREATE FUNCTION credential_notice() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  payload json;
BEGIN
  IF TG_TABLE_NAME = 'users' THEN
    payload := json_build_object('org', OLD.org_id, 'user', OLD.id);
  ELSIF TG_TABLE_NAME = 'auth_sessions' THEN
    payload := json_build_object('org', OLD.org_id, 'session', OLD.id);
  ELSIF TG_TABLE_NAME = 'api_keys' THEN
    payload := json_build_object('org', OLD.org_id, 'key', OLD.id);
  ELSE
    -- roles: every holder of the role, under its old name (a rename takes it from them).
    payload := json_build_object('org', OLD.org_id, 'role', OLD.name);
  END IF;
  PERFORM pg_notify('relay_credentials', payload::text);
  RETURN NULL;
END;
$$;

CREATE TRIGGER users_credential_notice AFTER UPDATE OF status, role ON users
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.role IS DISTINCT FROM NEW.role)
  EXECUTE FUNCTION credential_notice();
CREATE TRIGGER users_credential_notice_delete AFTER DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION credential_notice();

CREATE TRIGGER auth_sessions_credential_notice AFTER UPDATE OF revoked_at ON auth_sessions
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
  EXECUTE FUNCTION credential_notice();
CREATE TRIGGER auth_sessions_credential_notice_delete AFTER DELETE ON auth_sessions
  FOR EACH ROW EXECUTE FUNCTION credential_notice();

CREATE TRIGGER api_keys_credential_notice AFTER UPDATE OF revoked_at, role, user_id ON api_keys
  FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.role IS DISTINCT FROM NEW.role
                     OR OLD.user_id IS DISTINCT FROM NEW.user_id)
  EXECUTE FUNCTION credential_notice();
CREATE TRIGGER api_keys_credential_notice_delete AFTER DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION credential_notice();

CREATE TRIGGER roles_credential_notice AFTER UPDATE OF name, permissions ON roles
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.permissions IS DISTINCT FROM NEW.permissions)
  EXECUTE FUNCTION credential_notice();
CREATE TRIGGER roles_credential_notice_delete AFTER DELETE ON roles
  FOR EACH ROW EXECUTE FUNCTION credential_notice();
