-- At most one message per destination is in flight (claimed and not yet settled) at a time,
-- across every relay process. Plivo's message list, which crash recovery consults, does not carry
-- our message id; with one send in flight per destination, any accepted message to that number
-- that we have not recorded can only be the in-flight one, so recovery never credits one
-- message's send to another (which would lose the first and resend the second).

ALTER TABLE outbox_jobs ADD COLUMN to_e164 text;
UPDATE outbox_jobs j SET to_e164 = m.to_e164 FROM messages m WHERE m.id = j.message_id;

CREATE FUNCTION outbox_jobs_fill_destination() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.to_e164 IS NULL THEN
    SELECT to_e164 INTO NEW.to_e164 FROM messages WHERE id = NEW.message_id;
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER outbox_jobs_destination BEFORE INSERT ON outbox_jobs
  FOR EACH ROW EXECUTE FUNCTION outbox_jobs_fill_destination();

CREATE UNIQUE INDEX outbox_jobs_one_in_flight ON outbox_jobs (to_e164) WHERE state = 'sending';
