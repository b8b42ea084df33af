-- Every credential check now counts in auth_throttle (claimAttempt, issue #13 finding 8): the
-- old check-then-record log let parallel guesses pass before any was recorded. Nothing reads or
-- writes auth_attempts any more. Failures logged in it in the last 15 minutes are forgiven once.
DROP TABLE auth_attempts;
