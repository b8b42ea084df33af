-- Issue #20: a consent change fails the texts still queued to that phone (an opt-out its queued
-- texts, an opt-in its stale opt-out confirmation), inside the org's audit-chain lock. It found them
-- through the org's messages, which has no index by destination: every opt-in and opt-out read all
-- of the org's messages (6.8 ms at 2,862 messages, 178 ms on average under send load), and every
-- other consent change of the org waited behind it. Queued jobs are few and carry their
-- destination, so they are found by it here, whatever the size of the org's history.
CREATE INDEX outbox_jobs_queued_destination ON outbox_jobs (org_id, to_e164) WHERE state = 'queued';
