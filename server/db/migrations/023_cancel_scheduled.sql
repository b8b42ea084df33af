-- Issue #16 (6): a scheduled text can be cancelled before it leaves. The message ends as
-- 'cancelled' (never sent, not a failure: it counts towards no frequency cap and the CRM logs
-- nothing), and its job as 'cancelled', which the outbox never claims.
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
  CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'received', 'cancelled'));
ALTER TABLE outbox_jobs DROP CONSTRAINT outbox_jobs_state_check;
ALTER TABLE outbox_jobs ADD CONSTRAINT outbox_jobs_state_check
  CHECK (state IN ('queued', 'sending', 'done', 'failed', 'cancelled'));
