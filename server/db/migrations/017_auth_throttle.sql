-- Sign-in throttling (issue #13, finding 8): one counter row per (scope, subject), e.g. an
-- account from one address, or one address across accounts. An attempt is counted and judged in
-- one step with the row locked, so parallel attempts cannot all pass the check before any of them
-- is recorded. Times come from the relay's clock: a lockout is an expiry fact (server/clock.ts).
CREATE TABLE auth_throttle (
  scope            text NOT NULL,
  subject          text NOT NULL,
  failures         integer NOT NULL DEFAULT 0,
  last_failure_at  timestamptz,
  locked_until     timestamptz,
  PRIMARY KEY (scope, subject)
);
