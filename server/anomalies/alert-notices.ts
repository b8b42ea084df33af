import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { deliver } from '../mail/select.ts';
import type { Mail, MailTransport } from '../mail/transport.ts';
import { activePeopleWith } from '../organisations/org-people.ts';
import type { Metric } from './bucket-counts.ts';

/** A claim older than this is taken again: the relay stopped mid-way, or a mail was refused. */
const CLAIM_MS = 5 * 60_000;
const PER_PASS = 20;
/** How often due notices are looked for when nothing else wakes them. */
const INTERVAL_MS = 60_000;

const WHAT: Record<Metric, string> = {
  outbound: 'texts sent',
  new_recipients: 'texts to numbers never texted before',
  opt_outs: 'opt-outs',
  carrier_errors: 'texts the carriers refused',
};

interface DueAlert {
  id: string;
  org_id: string;
  org_name: string;
  user_id: string | null;
  rep_name: string | null;
  metric: Metric;
  bucket_start: Date;
  observed: number;
  expected: number;
  paused: boolean;
}

/**
 * Mails each new anomaly alert to the org's admins (users.manage: they resolve alerts), at least
 * once: claimed, mailed, then marked; a claim that never finished is taken again after five minutes.
 */
export class AnomalyNotices {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly deps: {
      db: Database;
      mail: MailTransport;
      publicUrl: string;
      clock: Clock;
      log: FastifyBaseLogger;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  wake(): void {
    this.running ??= this.sendDue()
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'anomaly notices failed'))
      .finally(() => {
        this.running = null;
      });
  }

  /** Mails the admins about alerts not yet notified (bounded per pass). */
  async sendDue(): Promise<void> {
    const { db, clock } = this.deps;
    const now = clock();
    const due = await db.query<DueAlert>(
      `UPDATE anomaly_alerts a SET notice_attempt_at = $1
         FROM orgs o
        WHERE o.id = a.org_id AND a.id IN (
          SELECT id FROM anomaly_alerts
           WHERE notified_at IS NULL AND (notice_attempt_at IS NULL OR notice_attempt_at < $2)
           ORDER BY created_at LIMIT ${PER_PASS} FOR UPDATE SKIP LOCKED)
        RETURNING a.id, a.org_id, o.name AS org_name, a.user_id, a.metric, a.bucket_start, a.observed, a.expected,
                  a.paused,
                  (SELECT coalesce(u.display_name, u.email) FROM users u WHERE u.id = a.user_id) AS rep_name`,
      [now, new Date(now.getTime() - CLAIM_MS)],
    );
    for (const alert of due) await this.notify(alert);
  }

  private async notify(alert: DueAlert): Promise<void> {
    const { db, mail, log } = this.deps;
    let delivered = true;
    for (const to of await activePeopleWith(db, alert.org_id, 'users.manage')) {
      const sent = await deliver(mail, this.mailFor(alert, to), log, {
        alertId: alert.id,
        kind: 'anomaly_alert',
      });
      delivered &&= sent;
    }
    if (delivered)
      await db.query('UPDATE anomaly_alerts SET notified_at = $2 WHERE id = $1', [
        alert.id,
        this.deps.clock(),
      ]);
  }

  private mailFor(alert: DueAlert, to: string): Mail {
    const base = this.deps.publicUrl.replace(/\/$/, '');
    const who = alert.user_id === null ? alert.org_name : (alert.rep_name ?? 'A rep');
    const hour = new Date(alert.bucket_start).toISOString().slice(0, 16).replace('T', ' ');
    return {
      to,
      subject: `Unusual sending at ${alert.org_name}: ${who}`,
      text: [
        `${who}: ${Number(alert.observed)} ${WHAT[alert.metric]} in the hour from ${hour} UTC, where about ${Math.round(Number(alert.expected))} is usual.`,
        alert.paused
          ? 'Their sending is paused until you resolve the alert.'
          : 'Nothing was paused (anomaly.pauseRep is off).',
        '',
        `See the alerts: GET ${base}/v1/alerts`,
        `Resolve this one once you have looked: POST ${base}/v1/alerts/${alert.id}/resolve with {"note": "why"}${alert.paused ? ' (their sending resumes; "resume": false keeps it paused)' : ''}.`,
      ].join('\n'),
    };
  }
}
