-- Issue #12: whether a text is scheduled, and for when, is decided once by the relay's clock and
-- stored here (at the send, or when the outbox holds it for the recipient's morning). Reads show
-- the stored value; none derives it by comparing available_at with the database's clock.
ALTER TABLE outbox_jobs ADD COLUMN scheduled_for timestamptz;
-- Rows queued before this migration: a one-time estimate by the only clock SQL has.
UPDATE outbox_jobs SET scheduled_for = available_at WHERE state = 'queued' AND available_at > now() + interval '5 seconds';
