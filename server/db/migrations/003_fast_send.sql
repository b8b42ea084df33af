-- The message as the API shows it, built in SQL so one statement can store a message and
-- announce it (see insertOutbound); keep in step with toDto in server/messaging/messages.ts.
CREATE FUNCTION message_dto(m messages, sent_by text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', m.id,
    'conversationId', m.conversation_id,
    'direction', m.direction,
    'from', m.from_e164,
    'to', m.to_e164,
    'body', m.body,
    'purpose', m.purpose,
    'status', m.status,
    'segments', m.segments,
    'encoding', m.encoding,
    'errorCode', m.error_code,
    'errorMessage', m.error_message,
    'sentBy', sent_by,
    'createdAt', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'updatedAt', to_char(m.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  )
$$;
