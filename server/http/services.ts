import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { OrgCrmSource } from '../crm-sync/org-crms.ts';
import type { Database } from '../db/database.ts';
import type { EventHub } from '../live/events.ts';
import type { Notifier } from '../live/notifier.ts';
import type { OutgoingMail } from '../mail/outgoing.ts';
import type { MailTransport } from '../mail/transport.ts';
import type { Payments } from '../payments/payments.ts';
import type { SandboxSmsNetwork } from '../providers/sandbox-sms.ts';
import type { SmsProvider } from '../providers/sms-provider.ts';
import type { SendBatcher } from '../workers/send-batcher.ts';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What route modules may use; handed over explicitly, never decorated onto the app. */
export interface Deps {
  config: Config;
  db: Database;
  sms: SmsProvider;
  /** Present when SMS_PROVIDER=sandbox: the simulated network behind the phone simulator. */
  sandbox: SandboxSmsNetwork | null;
  hub: EventHub;
  notifier: Notifier;
  sends: SendBatcher;
  /** The CRM plugins of the org a request acts for (its own connections, else the installation's). */
  crm: OrgCrmSource;
  /** The relay's clock (server/clock.ts): compliance and expiry decisions; tests inject one. */
  clock: Clock;
  /** Outgoing mail, chosen once from the configuration (SMTP, or the sandbox mailbox). */
  mail: MailTransport;
  /** Mail sent after the answer (no timing oracle), owned by the app: its close waits for it. */
  outgoingMail: OutgoingMail;
  /** Payment links (PAYMENT_PROVIDER); null when they are off on this relay. */
  payments: Payments | null;
}

/** One resource's routes: registered by the explicit list in routes/registry.ts. */
export type RouteModule = (app: App, deps: Deps) => void;
