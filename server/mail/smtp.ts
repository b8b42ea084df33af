import nodemailer, { type Transporter } from 'nodemailer';
import type { Mail, MailTransport } from './transport.ts';

/**
 * Real delivery over SMTP (SMTP_URL: smtp://user:pass@host:587 or smtps://…:465). The only file
 * that imports nodemailer. Constructing it opens no connection; the first send does, and every
 * send opens its own, so a mail server that restarts between sends costs nothing.
 */
export class SmtpMailTransport implements MailTransport {
  readonly name = 'smtp';
  private readonly transporter: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    options: { timeoutMs?: number } = {},
  ) {
    const timeout = options.timeoutMs ?? 15_000;
    this.transporter = nodemailer.createTransport({
      url: smtpUrl,
      // A slow mail server must not hold a sign-in request for nodemailer's default of minutes.
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  async send(mail: Mail): Promise<void> {
    await this.transporter.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text });
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}
