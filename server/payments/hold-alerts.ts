import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { deliver } from '../mail/select.ts';
import type { Mail, MailTransport } from '../mail/transport.ts';
import { activePeopleWith } from '../organisations/org-people.ts';
import { phoneNumber } from '../stores/phone-columns.ts';
import type { HoldReason } from './payment-guards.ts';
import { formatAmount } from './payment-links.ts';
import type { HoldRow } from './payment-queries.ts';

/** A claim older than this is taken again: the relay stopped mid-way, or a mail was refused. */
const CLAIM_MS = 5 * 60_000;
/** Holds mailed about per pass; the rest wait for the next one. */
const PER_PASS = 20;

/** What a manager reads about each kind of hold. */
const FOR_MANAGERS: Record<HoldReason, string> = {
  links_per_hour: 'A rep asked for many payments within an hour: their payment links are held.',
  repeat_number: 'One customer was sent several payment links within a day: links to that number are held.',
  unknown_number:
    'A rep asked for a large amount from a number that has never texted your organisation: the request waits for approval.',
  unusual_amount: 'A rep asked for far more than they usually do: the request waits for approval.',
  card_testing:
    'Card after card failed on one payment link, which is how stolen cards are tested: the link takes no payment until released.',
};

/** A hold due for its alert, with its org's name for the mail. */
type DueHold = Pick<
  HoldRow,
  | 'id'
  | 'reason'
  | 'rep_name'
  | 'phone_e164'
  | 'request_id'
  | 'amount_minor'
  | 'currency'
  | 'created_at'
  | 'released_at'
> & { org_id: string; org_name: string };

/**
 * The guards' alerts (issue #15, item 6): each new payment hold is mailed to every active person
 * of its org who may release it (`payments.manage`), so a hold does not wait unseen for someone to
 * look at the list. At least once: a hold is claimed, mailed, then marked alerted; a claim that
 * never finished (a stop, a refused mail) is taken again after five minutes.
 */
export class HoldAlerts {
  constructor(
    private readonly deps: {
      db: Database;
      mail: MailTransport;
      publicUrl: string;
      clock: Clock;
      log: FastifyBaseLogger;
    },
  ) {}

  /** Mails the managers about holds not yet alerted (bounded per pass). */
  async sendDue(): Promise<void> {
    const { db, clock } = this.deps;
    const now = clock();
    const due = await db.query<DueHold>(
      `UPDATE payment_holds h SET alert_attempt_at = $1
         FROM orgs o
        WHERE o.id = h.org_id AND h.id IN (
          SELECT id FROM payment_holds
           WHERE alerted_at IS NULL AND (alert_attempt_at IS NULL OR alert_attempt_at < $2)
           ORDER BY created_at LIMIT ${PER_PASS} FOR UPDATE SKIP LOCKED)
        RETURNING h.id, h.org_id, o.name AS org_name, h.reason, h.phone_e164, h.request_id, h.amount_minor,
                  h.currency, h.created_at, h.released_at,
                  (SELECT coalesce(u.display_name, u.email) FROM users u WHERE u.id = h.rep_user_id) AS rep_name`,
      [now, new Date(now.getTime() - CLAIM_MS)],
    );
    for (const hold of due) await this.alert(hold);
  }

  private async alert(hold: DueHold): Promise<void> {
    const { db, mail, log } = this.deps;
    // Released before anyone was told: nothing waits any more.
    const recipients =
      hold.released_at === null ? await activePeopleWith(db, hold.org_id, 'payments.manage') : [];
    if (hold.released_at === null && recipients.length === 0)
      log.warn({ holdId: hold.id, orgId: hold.org_id }, 'payment hold: nobody in the org may release it');
    let delivered = true;
    for (const to of recipients) {
      const sent = await deliver(mail, this.mailFor(hold, to), log, {
        holdId: hold.id,
        kind: 'payment_hold_alert',
      });
      delivered &&= sent;
    }
    // A refused mail leaves the claim to lapse: every manager is mailed again on the retry.
    if (delivered)
      await db.query('UPDATE payment_holds SET alerted_at = $2 WHERE id = $1', [hold.id, this.deps.clock()]);
  }

  private mailFor(hold: DueHold, to: string): Mail {
    const base = this.deps.publicUrl.replace(/\/$/, '');
    const amount =
      hold.amount_minor === null || hold.currency === null
        ? null
        : formatAmount(Number(hold.amount_minor), hold.currency);
    const facts = [
      `Rep: ${hold.rep_name ?? (hold.reason === 'card_testing' ? 'the customer paying the link' : 'an API key')}`,
      hold.phone_e164 === null
        ? null
        : `Customer number: ending ${phoneNumber(this.deps.db, hold.phone_e164).slice(-4)}`,
      amount === null ? null : `Amount: ${amount} (${hold.currency?.toUpperCase()})`,
      hold.request_id === null ? null : `Payment request: ${hold.request_id}`,
      `Held at: ${hold.created_at.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      `Hold: ${hold.id}`,
    ].filter((line) => line !== null);
    return {
      to,
      subject: `Payment hold at ${hold.org_name}: a manager's look is needed`,
      text: [
        FOR_MANAGERS[hold.reason],
        '',
        ...facts,
        '',
        `See the holds: GET ${base}/v1/payment-holds (or npm run cli -- payments holds --org ${hold.org_id}).`,
        `Release this one once you have checked it: POST ${base}/v1/payment-holds/${hold.id}/release with {"note": "why"}`,
        `(or npm run cli -- payments release --org ${hold.org_id} --hold ${hold.id} --note "why"). Until then it stays held.`,
      ].join('\n'),
    };
  }
}
