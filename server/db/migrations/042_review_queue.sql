-- Issue #18 item 4: the review queue. Everything the compliance layer flagged, plus a random
-- sample of conversations, for reviewers to mark OK or act on (coach, opt out, escalate).
--   refused_send   a send the rules refused (one item per rep, number, code and day; occurrences counts repeats)
--   override       an opt-out overridden, or a text sent in quiet hours by the org's policy
--   redaction      a card or similar number removed from a customer's text
--   unclear_reply  a reply that may be an opt-out (a consent review: deciding the item decides it)
--   escalation     a rep moved a sensitive thread off SMS (a CRM call or email task)
--   sample         a conversation picked at random (reviewSamplePercent of each day's conversations)
-- Ids of conversations and messages are kept without foreign keys: retention may purge those rows,
-- and the review's record must outlive them.
CREATE TABLE review_items (
  id               uuid PRIMARY KEY,
  org_id           uuid NOT NULL REFERENCES orgs(id),
  kind             text NOT NULL CHECK (kind IN ('refused_send', 'override', 'redaction', 'unclear_reply', 'escalation', 'sample')),
  reason           text NOT NULL,
  conversation_id  uuid,
  message_id       uuid,
  user_id          uuid REFERENCES users(id),
  actor            text,
  phone_e164       text,
  source_id        text,
  dedupe_key       text NOT NULL,
  occurrences      integer NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL,
  last_seen_at     timestamptz NOT NULL,
  status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'escalated', 'closed')),
  decision         text CHECK (decision IN ('ok', 'coach', 'opt_out', 'escalate')),
  note             text,
  decided_by       text,
  decided_at       timestamptz
);
-- One item per occasion while it is not closed: a repeat adds to its occurrences.
CREATE UNIQUE INDEX review_items_once ON review_items (org_id, kind, dedupe_key) WHERE status <> 'closed';
-- Whether an occasion was ever queued, closed or not (a day's sample is taken once).
CREATE INDEX review_items_occasion ON review_items (org_id, kind, dedupe_key);
-- The queue, newest first, one page at a time, per status.
CREATE INDEX review_items_queue ON review_items (org_id, status, created_at DESC, id DESC);
