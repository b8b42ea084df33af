import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { PeriodicRunner } from '../lib/periodic-runner.ts';
import { deliver } from '../mail/select.ts';
import type { Mail, MailTransport } from '../mail/transport.ts';
import { activePeopleWith } from '../organisations/org-people.ts';
import { alertWebhookSecret, postAlert } from './alert-webhook.ts';
import { readAnomalySettings } from './anomaly-settings.ts';
import type { AlertMetric } from './bucket-counts.ts';
import { IP_COUNTRY_ATTRIBUTION } from './ip-country.ts';

/** A claim older than this is taken again: the relay stopped mid-way, or a mail was refused. */
const CLAIM_MS = 5 * 60_000;
const PER_PASS = 20;
/** How often due notices are looked for when nothing else wakes them. */
const INTERVAL_MS = 60_000;

const WHAT: Record<AlertMetric, string> = {
  outbound: 'texts sent',
  new_recipients: 'texts to numbers never texted before',
  opt_outs: 'opt-outs',
  carrier_errors: 'texts the carriers refused',
  new_device: 'sign-ins from a new device',
  new_country: 'sign-ins from a new country',
};

const SIGN_IN_SUBJECT: Partial<Record<AlertMetric, string>> = {
  new_device: 'New device sign-in',
  new_country: 'Sign-in from a new country',
};

/** What a sign-in alert says happened (null for a sending alert). */
function signInNews(alert: DueAlert, who: string): string | null {
  const at = `${new Date(alert.created_at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const ip = String(alert.detail?.ip ?? 'an unknown address');
  if (alert.metric === 'new_device')
    return `${who} signed in from a device never used before: ${String(alert.detail?.device ?? 'an unknown device')}, from ${ip}, at ${at}.`;
  if (alert.metric === 'new_country') {
    const usual = Array.isArray(alert.detail?.usual) ? alert.detail.usual.join(', ') : 'elsewhere';
    return `${who} signed in from ${String(alert.detail?.country ?? 'an unknown country')} (${ip}) at ${at}, never from there before (until now: ${usual}). Countries: ${IP_COUNTRY_ATTRIBUTION}.`;
  }
  return null;
}

interface DueAlert {
  id: string;
  org_id: string;
  org_name: string;
  user_id: string | null;
  rep_name: string | null;
  metric: AlertMetric;
  detail: { device?: unknown; ip?: unknown; country?: unknown; usual?: unknown } | null;
  bucket_start: Date;
  observed: number;
  expected: number;
  paused: boolean;
  created_at: Date;
  mailed_at: Date | null;
  webhook_at: Date | null;
}

/** After this long an alert's channels that still fail are given up (logged): a broken collector does not retry forever. */
const GIVE_UP_MS = 24 * 3_600_000;

/**
 * Tells of each new anomaly alert, at least once: by mail to the org's admins (users.manage: they
 * resolve alerts) and, when the org set anomaly.webhookUrl, by a signed POST to its collector.
 * Claimed, sent, then marked per channel; a claim that never finished is taken again after five
 * minutes, and a channel still failing after a day is given up (and logged).
 */
export class AnomalyNotices {
  private readonly runner: PeriodicRunner;

  constructor(
    private readonly deps: {
      db: Database;
      mail: MailTransport;
      publicUrl: string;
      clock: Clock;
      log: FastifyBaseLogger;
    },
  ) {
    this.runner = new PeriodicRunner(
      () => this.sendDue(),
      INTERVAL_MS,
      (error) => deps.log.error({ err: error }, 'anomaly notices failed'),
    );
  }

  start(): void {
    this.runner.start(false);
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  wake(): void {
    this.runner.wake();
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
                  a.paused, a.created_at, a.mailed_at, a.webhook_at, a.detail,
                  (SELECT coalesce(u.display_name, u.email) FROM users u WHERE u.id = a.user_id) AS rep_name`,
      [now, new Date(now.getTime() - CLAIM_MS)],
    );
    for (const alert of due) await this.notify(alert);
  }

  /** Mail and (when the org has one) its collector, each marked once done; then the alert is notified. */
  private async notify(alert: DueAlert): Promise<void> {
    const { db, log, clock } = this.deps;
    const mailed = alert.mailed_at !== null || (await this.mailAdmins(alert));
    if (mailed && alert.mailed_at === null)
      await db.query('UPDATE anomaly_alerts SET mailed_at = $2 WHERE id = $1', [alert.id, clock()]);
    const { webhookUrl } = await readAnomalySettings(db, alert.org_id);
    let hooked = webhookUrl === null || alert.webhook_at !== null;
    if (!hooked && webhookUrl !== null) {
      const posted = await postAlert(
        webhookUrl,
        await alertWebhookSecret(db, alert.org_id),
        payloadOf(alert),
        clock(),
      );
      if (posted.ok)
        await db.query('UPDATE anomaly_alerts SET webhook_at = $2 WHERE id = $1', [alert.id, clock()]);
      else
        log.warn(
          { alertId: alert.id, reason: posted.reason },
          'the alert webhook did not take the alert; retrying',
        );
      hooked = posted.ok;
    }
    const givenUp = clock().getTime() - new Date(alert.created_at).getTime() > GIVE_UP_MS;
    if (givenUp && !(mailed && hooked))
      log.error({ alertId: alert.id, mailed, hooked }, 'gave up notifying an anomaly alert after 24 hours');
    if ((mailed && hooked) || givenUp)
      await db.query('UPDATE anomaly_alerts SET notified_at = $2 WHERE id = $1', [alert.id, clock()]);
  }

  private async mailAdmins(alert: DueAlert): Promise<boolean> {
    let delivered = true;
    for (const to of await activePeopleWith(this.deps.db, alert.org_id, 'users.manage')) {
      const sent = await deliver(this.deps.mail, this.mailFor(alert, to), this.deps.log, {
        alertId: alert.id,
        kind: 'anomaly_alert',
      });
      delivered &&= sent;
    }
    return delivered;
  }

  private mailFor(alert: DueAlert, to: string): Mail {
    const base = this.deps.publicUrl.replace(/\/$/, '');
    const who = alert.user_id === null ? alert.org_name : (alert.rep_name ?? 'A rep');
    const hour = new Date(alert.bucket_start).toISOString().slice(0, 16).replace('T', ' ');
    const signIn = signInNews(alert, who);
    return {
      to,
      subject: `${SIGN_IN_SUBJECT[alert.metric] ?? 'Unusual sending'} at ${alert.org_name}: ${who}`,
      text: [
        signIn ??
          `${who}: ${Number(alert.observed)} ${WHAT[alert.metric]} in the hour from ${hour} UTC, where about ${Math.round(Number(alert.expected))} is usual.`,
        alert.paused
          ? 'Their sending is paused until you resolve the alert.'
          : signIn !== null
            ? 'If it was not them, deactivate the account (their sessions end at once) and reset its password.'
            : 'Nothing was paused (anomaly.pauseRep is off).',
        '',
        `See the alerts: GET ${base}/v1/alerts`,
        `Resolve this one once you have looked: POST ${base}/v1/alerts/${alert.id}/resolve with {"note": "why"}${alert.paused ? ' (their sending resumes; "resume": false keeps it paused)' : ''}.`,
      ].join('\n'),
    };
  }
}

/** What the org's collector receives: the alert, its org, and when it was raised. */
function payloadOf(alert: DueAlert) {
  return {
    type: 'anomaly.alert',
    org: { id: alert.org_id, name: alert.org_name },
    alert: {
      id: alert.id,
      subject: alert.user_id === null ? 'org' : 'rep',
      rep: alert.user_id === null ? null : { userId: alert.user_id, name: alert.rep_name },
      metric: alert.metric,
      device: typeof alert.detail?.device === 'string' ? alert.detail.device : null,
      country: typeof alert.detail?.country === 'string' ? alert.detail.country : null,
      hourStart: new Date(alert.bucket_start).toISOString(),
      observed: Number(alert.observed),
      expected: Math.round(Number(alert.expected) * 10) / 10,
      paused: alert.paused,
      createdAt: new Date(alert.created_at).toISOString(),
    },
  };
}
