-- Issue #19: the inbox. Who a conversation belongs to (routing), and what each user has not read.

-- The rep a conversation is routed to: set when a reply arrives on a conversation nobody owns yet
-- (the rep who last texted it, else the number's default assignee) or by hand (audited). The
-- assignee is also made a participant (conversation_participants), which is what lets a rep see a
-- conversation and hear its live events: routing and visibility cannot disagree.
ALTER TABLE conversations ADD COLUMN assigned_user_id uuid REFERENCES users(id);
ALTER TABLE conversations ADD COLUMN assigned_at timestamptz;
-- The unassigned queue, newest activity first, one page at a time.
CREATE INDEX conversations_org_unassigned
  ON conversations (org_id, last_message_at DESC NULLS LAST, id) WHERE assigned_user_id IS NULL;

-- A number's default assignee: where a first reply goes when no rep has texted the customer.
ALTER TABLE sender_numbers ADD COLUMN default_assignee_user_id uuid REFERENCES users(id);

-- Unread, per user: a row while the conversation has a reply this user has not been shown (or the
-- user marked it unread). Kept for the assignee when a reply arrives, removed when the thread is
-- shown. Small by construction (what is waiting), so the inbox's first section and the icon's
-- badge read one user's rows from this index, never scan messages.
CREATE TABLE inbox_unread (
  user_id          uuid NOT NULL REFERENCES users(id),
  conversation_id  uuid NOT NULL REFERENCES conversations(id),
  since            timestamptz NOT NULL,
  PRIMARY KEY (user_id, conversation_id)
);
CREATE INDEX inbox_unread_user_recent ON inbox_unread (user_id, since DESC, conversation_id);
CREATE INDEX inbox_unread_conversation ON inbox_unread (conversation_id);
