-- Issue #5: a text scheduled for later (quiet hours: the customer's morning) says when it will go,
-- in the live event of its creation too. message_dto gains the instant as a third argument; the
-- two-argument form stays for callers that have none.
CREATE OR REPLACE FUNCTION message_dto(m messages, sent_by text, scheduled_for timestamptz) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT message_dto(m, sent_by) || jsonb_build_object(
    'scheduledFor',
    CASE WHEN scheduled_for IS NULL THEN NULL
         ELSE to_char(scheduled_for AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END
  )
$$;
