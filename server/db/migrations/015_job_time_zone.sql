-- The CRM time zone a send was judged by, kept with its job: the outbox judges quiet hours again at
-- send time and has no CRM to ask. Without it a number the area code cannot place (outside North
-- America) was accepted by the send and then failed by the worker as UNKNOWN_TIME_ZONE.
ALTER TABLE outbox_jobs ADD COLUMN crm_time_zone text;
