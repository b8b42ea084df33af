import type { Queryable } from '../db/database.ts';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Where the relay's mail goes (verification, reset and invite links, notices); chosen once at start. */
export interface MailTransport {
  readonly name: string;
  send(mail: Mail): Promise<void>;
  close(): Promise<void>;
}

/**
 * Keeps every mail in the sandbox_mail table, shown on /sandbox/mail; nothing leaves the machine.
 * Live links sit there in clear, which is why only the sandbox ever uses it (server/mail/select.ts).
 */
export class SandboxMailTransport implements MailTransport {
  readonly name = 'sandbox';
  constructor(private readonly db: Queryable) {}

  async send(mail: Mail): Promise<void> {
    await this.db.query('INSERT INTO sandbox_mail (to_address, subject, body) VALUES ($1, $2, $3)', [
      mail.to,
      mail.subject,
      mail.text,
    ]);
  }

  async close(): Promise<void> {}
}

/** A mail the sandbox kept, as /sandbox/mail lists it. */
export interface SandboxMail {
  id: string;
  to_address: string;
  subject: string;
  body: string;
  created_at: Date;
}

/** The sandbox mailbox, newest first (the last hundred). */
export async function recentSandboxMail(db: Queryable): Promise<SandboxMail[]> {
  return db.query<SandboxMail>(
    'SELECT id, to_address, subject, body, created_at FROM sandbox_mail ORDER BY id DESC LIMIT 100',
  );
}
