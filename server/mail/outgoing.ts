import type { FastifyBaseLogger } from 'fastify';
import { deliver } from './select.ts';
import type { Mail, MailTransport } from './transport.ts';

/**
 * Mail that goes out after the request has answered. A reset request must answer in the same
 * time whether or not the account exists; waiting for the mail server's round trip only when it
 * does would tell. Each send is owned here until it settles: a failure is logged by deliver()
 * (without the link) and the app's close waits for every pending send before the transport goes.
 */
export class OutgoingMail {
  private readonly pending = new Set<Promise<boolean>>();
  private closed = false;

  constructor(private readonly transport: MailTransport) {}

  /** Starts sending; returns at once. `context` names the mail in a failure's log line. */
  send(mail: Mail, log: FastifyBaseLogger, context: Record<string, string>): void {
    if (this.closed) {
      // After close the transport is gone: say so rather than lose the mail without a trace.
      log.error({ ...context, subject: mail.subject }, 'mail not sent: the relay is shutting down');
      return;
    }
    // deliver() never rejects (it logs and answers false), so the tracked promise always settles.
    const sending = deliver(this.transport, mail, log, context).finally(() => this.pending.delete(sending));
    this.pending.add(sending);
  }

  /** How many sends have not settled yet. */
  get size(): number {
    return this.pending.size;
  }

  /** Waits for every pending send (sends started meanwhile too), then takes no more. */
  async close(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    this.closed = true;
  }
}
