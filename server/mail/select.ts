import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import type { Queryable } from '../db/database.ts';
import { SmtpMailTransport } from './smtp.ts';
import { type Mail, type MailTransport, SandboxMailTransport } from './transport.ts';

/**
 * The one mail transport of a relay: SMTP whenever SMTP_URL is set, else the sandbox mailbox.
 * Outside the sandbox the configuration already refused to start without SMTP_URL; this refuses
 * again so no other way of building an app can put live links into the database.
 */
export function createMailTransport(config: Config, db: Queryable): MailTransport {
  if (config.mail.smtpUrl !== null) return new SmtpMailTransport(config.mail.smtpUrl, config.mail.from);
  if (config.smsProvider !== 'sandbox')
    throw new Error('SMTP_URL is required outside the sandbox: invites and password resets are mailed');
  return new SandboxMailTransport(db);
}

/** Link tokens never reach a log line, whatever a transport's error message repeats. */
const redact = (text: string) => text.replace(/token=[^\s&"'<>]+/g, 'token=[redacted]');

/**
 * Sends one mail; a delivery failure is logged (without the link) and reported as false rather
 * than thrown, so a request answers the same whether or not the mail server took it.
 */
export async function deliver(
  transport: MailTransport,
  mail: Mail,
  log: FastifyBaseLogger,
  context: Record<string, string>,
): Promise<boolean> {
  try {
    await transport.send(mail);
    return true;
  } catch (error) {
    const e = error as { code?: unknown; responseCode?: unknown; message?: unknown };
    log.error(
      {
        ...context,
        transport: transport.name,
        subject: mail.subject,
        code: typeof e.code === 'string' ? e.code : undefined,
        responseCode: typeof e.responseCode === 'number' ? e.responseCode : undefined,
        reason: redact(typeof e.message === 'string' ? e.message : String(error)),
      },
      'mail delivery failed',
    );
    return false;
  }
}
