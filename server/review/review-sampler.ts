import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { PeriodicRunner } from '../lib/periodic-runner.ts';

/** Of each day's conversations, this share (percent) goes to the review queue unless the org sets reviewSamplePercent. */
export const DEFAULT_SAMPLE_PERCENT = 2;
const DAY_MS = 86_400_000;

/**
 * Puts a random sample of yesterday's conversations (UTC, by the relay's clock) in the review
 * queue: each conversation with a text sent that day is picked when a hash of its id and the day
 * falls under the org's reviewSamplePercent. The pick is stable, so a second pass (another
 * process, a restart, the next hour) adds nothing, even after the item was decided; answers how many conversations were added.
 */
export async function sampleConversations(db: Database, now: Date): Promise<number> {
  const dayEnd = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
  const dayStart = new Date(dayEnd.getTime() - DAY_MS);
  const day = dayStart.toISOString().slice(0, 10);
  const added = await db.query(
    `INSERT INTO review_items (id, org_id, kind, reason, dedupe_key, conversation_id, user_id, phone_e164,
                               created_at, last_seen_at)
     SELECT gen_random_uuid(), c.org_id, 'sample', 'random sample of ' || $4::text, 'sample:' || c.id || ':' || $4::text,
            c.id, c.assigned_user_id, c.contact_phone, $5::timestamptz, $5::timestamptz
       FROM conversations c JOIN orgs o ON o.id = c.org_id
      WHERE c.last_message_at >= $1
        AND abs(hashtext(c.id::text || $4::text)::bigint) % 10000
            < 100 * coalesce((o.settings->>'reviewSamplePercent')::int, $3::int)
        AND EXISTS (SELECT 1 FROM messages m
                     WHERE m.conversation_id = c.id AND m.direction = 'outbound'
                       AND m.created_at >= $1 AND m.created_at < $2)
        -- Sampled once per day, also after a reviewer has closed it.
        AND NOT EXISTS (SELECT 1 FROM review_items r
                         WHERE r.org_id = c.org_id AND r.kind = 'sample'
                           AND r.dedupe_key = 'sample:' || c.id || ':' || $4::text)
     ON CONFLICT (org_id, kind, dedupe_key) WHERE status <> 'closed' DO NOTHING
     RETURNING id`,
    [dayStart, dayEnd, DEFAULT_SAMPLE_PERCENT, day, now],
  );
  return added.length;
}

/** Samples once an hour (the day's sample is taken in the first pass after midnight UTC). */
export class ReviewSampler {
  private readonly runner: PeriodicRunner;

  constructor(options: {
    db: Database;
    clock: Clock;
    log: (level: 'info' | 'warn' | 'error', message: string) => void;
  }) {
    this.runner = new PeriodicRunner(
      async () => {
        const added = await sampleConversations(options.db, options.clock());
        if (added > 0)
          options.log('info', `review sample: ${added} conversation(s) added to the review queue`);
      },
      3_600_000,
      (error) => options.log('error', `review sample failed: ${String(error)}`),
    );
  }

  start(): void {
    this.runner.start(true);
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }
}
