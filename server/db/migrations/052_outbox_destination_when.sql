-- Issue #20: every writer of outbox jobs now names the destination itself (the send path in
-- server/stores/messages.ts and server/workers/send-batcher.ts), so the trigger that looked the
-- message up again for every job runs only for a job written without one (a hand-written job, or
-- a relay of an older version during an upgrade). One PL/pgSQL call and one lookup less per send.
DROP TRIGGER outbox_jobs_destination ON outbox_jobs;
CREATE TRIGGER outbox_jobs_destination BEFORE INSERT ON outbox_jobs
  FOR EACH ROW WHEN (NEW.to_e164 IS NULL) EXECUTE FUNCTION outbox_jobs_fill_destination();
