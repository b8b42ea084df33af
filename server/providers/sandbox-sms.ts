import { randomInt, randomUUID } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { signPlivoV3, verifySignedRequest } from './plivo-signature.ts';
import type {
  NumberOwnership,
  NumberOwnershipQuery,
  OutboundSms,
  SendResult,
  SignedRequest,
  SmsProvider,
} from './sms-provider.ts';
import { ProviderError } from './sms-provider.ts';

/** Delivers a signed webhook to the relay; resolves to the HTTP status it answered. */
export type WebhookDeliverer = (request: {
  path: string;
  headers: Record<string, string>;
  body: string;
}) => Promise<number>;

/**
 * Handsets whose numbers end in these digits misbehave on purpose, so a person can see
 * failures in the product without a real carrier.
 */
export const SANDBOX_FAILURES = {
  /** Accepted, then reported undelivered (Plivo ErrorCode 50, invalid destination). */
  undelivered: '0199',
  /** Refused at the API with a permanent 400. */
  rejected: '0198',
} as const;

const stripPlus = (e164: string): string => e164.replace(/^\+/, '');

/**
 * The sandbox SMS network: a first-class SmsProvider that keeps the simulated handsets' texts
 * in SQL and calls the relay back with Plivo-format, Plivo-signed status and inbound webhooks,
 * through the same routes a real Plivo account uses.
 */
export class SandboxSmsNetwork implements SmsProvider {
  readonly name = 'sandbox';
  private deliverer: WebhookDeliverer | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly authToken: string,
    private readonly publicUrl: string,
    private readonly log: (message: string) => void,
    private readonly delays = { sentMs: 250, deliveredMs: 900 },
  ) {}

  /** Wires the webhook path once the HTTP app exists (construction stays synchronous). */
  connect(deliverer: WebhookDeliverer): void {
    this.deliverer = deliverer;
  }

  async send(sms: OutboundSms): Promise<SendResult> {
    if (sms.to.endsWith(SANDBOX_FAILURES.rejected)) {
      throw new ProviderError(
        false,
        'SANDBOX_INVALID_DESTINATION',
        'Sandbox: this destination number is not valid',
        400,
      );
    }
    const providerMessageId = randomUUID();
    await this.db.query(
      `INSERT INTO sandbox_sms (provider_message_id, client_ref, direction, handset_e164, service_e164, body)
       VALUES ($1, $2, 'to_handset', $3, $4, $5)`,
      [providerMessageId, sms.clientRef, sms.to, sms.from, sms.body],
    );
    // The sandbox reports like Plivo, so to the route Plivo's reports use unless the send names one.
    const callbackPath = new URL(sms.statusCallbackUrl ?? `${this.publicUrl}/webhooks/plivo/status`).pathname;
    const base = {
      MessageUUID: providerMessageId,
      From: stripPlus(sms.from),
      To: stripPlus(sms.to),
      Type: 'sms',
      Units: '1',
    };
    const failing = sms.to.endsWith(SANDBOX_FAILURES.undelivered);
    const finalReport = {
      ...base,
      Status: failing ? 'undelivered' : 'delivered',
      Sequence: '2',
      ErrorCode: failing ? '50' : '000',
    };
    // The final report is scheduled once "sent" is delivered, so the two reach the relay in order even when
    // short test delays and a busy machine would let two independent timers fire the other way round.
    this.later(this.delays.sentMs, async () => {
      try {
        await this.deliver(callbackPath, { ...base, Status: 'sent', Sequence: '1', ErrorCode: '000' });
      } finally {
        this.later(Math.max(0, this.delays.deliveredMs - this.delays.sentMs), () =>
          this.deliver(callbackPath, finalReport),
        );
      }
    });
    return { providerMessageId };
  }

  async findAccepted(sms: Pick<OutboundSms, 'clientRef' | 'to' | 'from'>, since: Date): Promise<string[]> {
    // Like a real provider, the sandbox answers by destination and time window, not by our id.
    const rows = await this.db.query<{ provider_message_id: string }>(
      `SELECT provider_message_id FROM sandbox_sms
        WHERE direction = 'to_handset' AND handset_e164 = $1 AND service_e164 = $2
          AND created_at >= $3::timestamptz - interval '1 minute'
        ORDER BY id LIMIT 50`,
      [sms.to, sms.from, since],
    );
    return rows.map((r) => r.provider_message_id);
  }

  /** A simulated customer texts one of the relay's numbers. */
  async textFromHandset(input: {
    handset: string;
    service: string;
    text: string;
  }): Promise<{ providerMessageId: string; status: number }> {
    const providerMessageId = randomUUID();
    await this.db.query(
      `INSERT INTO sandbox_sms (provider_message_id, direction, handset_e164, service_e164, body)
       VALUES ($1, 'from_handset', $2, $3, $4)`,
      [providerMessageId, input.handset, input.service, input.text],
    );
    const status = await this.deliver('/webhooks/plivo/inbound', {
      From: stripPlus(input.handset),
      To: stripPlus(input.service),
      Text: input.text,
      Type: 'sms',
      MessageUUID: providerMessageId,
      Units: '1',
      TotalRate: '0',
      TotalAmount: '0',
      MessageIntent: '',
      PowerpackUUID: '',
    });
    return { providerMessageId, status };
  }

  /** What the phone simulator shows: sender numbers, recent handsets, one handset's texts. */
  async phoneState(handset: string | undefined): Promise<{
    numbers: { e164: string; org: string }[];
    handsets: string[];
    messages: { id: number; direction: string; service: string; body: string; at: string }[];
  }> {
    const numbers = await this.db.query<{ e164: string; org_name: string }>(
      'SELECT n.e164, o.name AS org_name FROM sender_numbers n JOIN orgs o ON o.id = n.org_id ORDER BY o.name, n.e164',
    );
    const handsets = await this.db.query<{ handset_e164: string }>(
      'SELECT handset_e164 FROM sandbox_sms GROUP BY handset_e164 ORDER BY max(id) DESC LIMIT 50',
    );
    const messages =
      handset === undefined
        ? []
        : await this.db.query<{
            id: number;
            direction: string;
            service_e164: string;
            body: string;
            created_at: Date;
          }>(
            `SELECT id, direction, service_e164, body, created_at FROM sandbox_sms
              WHERE handset_e164 = $1 ORDER BY id DESC LIMIT 200`,
            [handset],
          );
    return {
      numbers: numbers.map((n) => ({ e164: n.e164, org: n.org_name })),
      handsets: handsets.map((h) => h.handset_e164),
      messages: messages.reverse().map((m) => ({
        id: m.id,
        direction: m.direction,
        service: m.service_e164,
        body: m.body,
        at: m.created_at.toISOString(),
      })),
    };
  }

  /**
   * The sandbox owns every number: its handsets text whatever number they are given, so any number
   * an organisation registers is one it can send from here. Nothing leaves this machine. It has no
   * Powerpacks, so it never says one holds a number: on a relay of several organisations it cannot
   * prove a number is an organisation's own, and the relay's operator assigns it.
   */
  async ownsNumber(_e164: string, query: NumberOwnershipQuery = {}): Promise<NumberOwnership> {
    return query.powerpackUuid == null ? { owned: true } : { owned: true, inPowerpack: false };
  }

  verifyWebhook(request: SignedRequest): boolean {
    return verifySignedRequest(request, this.authToken);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private later(ms: number, task: () => Promise<unknown>): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task().catch((error: unknown) => this.log(`sandbox callback failed: ${String(error)}`));
    }, ms);
    this.timers.add(timer);
  }

  private async deliver(path: string, params: Record<string, string>): Promise<number> {
    if (this.deliverer === null) throw new Error('sandbox network is not connected to the relay');
    const nonce = String(randomInt(1e9, 1e10)) + String(randomInt(1e9, 1e10));
    const url = `${this.publicUrl}${path}`;
    const status = await this.deliverer({
      path,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-plivo-signature-v3': signPlivoV3('POST', url, params, nonce, this.authToken),
        'x-plivo-signature-v3-nonce': nonce,
      },
      body: new URLSearchParams(params).toString(),
    });
    if (status !== 200) this.log(`sandbox webhook ${path} answered ${status}`);
    return status;
  }
}

/** Reads (or creates once) an installation-wide secret shared by all relay processes. */
export async function instanceSecret(db: Database, name: string, create: () => string): Promise<string> {
  await db.query('INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
    name,
    create(),
  ]);
  const rows = await db.query<{ value: string }>('SELECT value FROM instance_secrets WHERE name = $1', [
    name,
  ]);
  const value = rows[0]?.value;
  if (value === undefined) throw new Error(`instance secret ${name} missing`);
  return value;
}
