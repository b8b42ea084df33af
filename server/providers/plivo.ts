import { Client } from 'plivo';
import type { SenderNumberType } from '../../contract/numbers.ts';
import { verifySignedRequest } from './plivo-signature.ts';
import {
  type NumberOwnership,
  type NumberOwnershipQuery,
  type OutboundSms,
  ProviderError,
  type SendResult,
  type SignedRequest,
  type SmsProvider,
} from './sms-provider.ts';

/** The only file that imports the plivo SDK. */

export interface PlivoOptions {
  authId: string;
  authToken: string;
  /** Base-URL override (tests point it at the fake): the API root, e.g. http://127.0.0.1:9000. */
  apiUrl?: string | null;
  /** Request timeout; must stay well below the outbox lease so a slow call cannot outlive it. */
  timeoutMs?: number;
  /** Plivo's `log` option: false keeps message text out of Plivo's logs (PHI/PCI hygiene). */
  logContent?: boolean;
  /** A Powerpack to send from instead of the sender number (then `from` is not sent). */
  powerpackUuid?: string | null;
  /** An organisation's own Powerpack (its settings), which wins over `powerpackUuid`. */
  powerpackFor?: (orgId: string) => Promise<string | null>;
  /** Where Plivo posts delivery reports: the relay's /webhooks/plivo/status (see plivoStatusCallbackUrl). */
  statusCallbackUrl?: string | null;
}

/** The relay's route for Plivo's delivery reports, under its public URL. */
export function plivoStatusCallbackUrl(publicUrl: string): string {
  return `${publicUrl}/webhooks/plivo/status`;
}

function plivoTime(date: Date): string {
  // Plivo filters take "YYYY-MM-DD HH:MM:SS" in UTC.
  return date.toISOString().replace('T', ' ').slice(0, 19);
}

function field(value: unknown, ...names: string[]): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  for (const name of names) if (record[name] !== undefined) return record[name];
  return undefined;
}

const digits = (e164: string): string => e164.replace(/^\+/, '');

/** Plivo's Powerpack and number-pool ids; anything else is never put into a request path. */
const PLIVO_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Turns what the SDK rejects with into a ProviderError. The SDK gives `status` for API errors
 * but a bare Error ("…status code 429") for 429s (reference §1.4), and axios errors for the network.
 */
export function classifyPlivoError(error: unknown): ProviderError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    status?: unknown;
    message?: unknown;
    code?: unknown;
  };
  const message = typeof e.message === 'string' ? e.message : String(error);
  const status = typeof e.status === 'number' ? e.status : undefined;
  if (status === undefined && /status code 429/.test(message)) {
    return new ProviderError(true, 'PROVIDER_RATE_LIMITED', 'Plivo is rate limiting requests (429).', 429);
  }
  if (status === undefined) {
    const m = /status code (\d{3})/.exec(message);
    const code = m === null ? undefined : Number(m[1]);
    if (code !== undefined && code >= 500)
      return new ProviderError(true, 'PROVIDER_5XX', `Plivo answered ${code}.`, code);
    // No HTTP answer: the request may or may not have reached Plivo. Ambiguous, not retryable
    // blindly: the worker reconciles before any resend.
    const text = `${message} ${String(e.code)}`;
    if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(text)) {
      // Refused before anything was sent: safe to retry as it is.
      return new ProviderError(true, 'PROVIDER_UNREACHABLE', `Cannot reach Plivo: ${message}`);
    }
    const timedOut = /timeout|ETIMEDOUT|ECONNABORTED/i.test(text);
    return new ProviderError(
      true,
      timedOut ? 'PROVIDER_TIMEOUT' : 'PROVIDER_CONNECTION_LOST',
      timedOut ? 'Plivo did not answer in time.' : `The connection to Plivo broke: ${message}`,
      undefined,
      true,
    );
  }
  if (status >= 500)
    return new ProviderError(true, 'PROVIDER_5XX', `Plivo answered ${status}: ${message}`, status);
  if (status === 429)
    return new ProviderError(true, 'PROVIDER_RATE_LIMITED', 'Plivo is rate limiting requests (429).', 429);
  if (status === 401)
    return new ProviderError(true, 'PROVIDER_AUTH', 'Plivo refused the credentials (401).', 401);
  return new ProviderError(false, `PLIVO_${status}`, `Plivo refused the message: ${message}`, status);
}

/** Plivo's number_type as the relay's sender kind; Plivo lists no short codes among rented numbers. */
function senderTypeOf(plivoType: unknown): SenderNumberType | undefined {
  if (typeof plivoType !== 'string') return undefined;
  if (/^toll-?free$/i.test(plivoType)) return 'toll_free';
  if (/^(local|fixed|mobile|national)$/i.test(plivoType)) return 'long_code';
  return undefined;
}

export class PlivoProvider implements SmsProvider {
  readonly name = 'plivo';
  private readonly client: Client;

  constructor(private readonly options: PlivoOptions) {
    const base = (options.apiUrl ?? 'https://api.plivo.com').replace(/\/+$/, '');
    this.client = new Client(options.authId, options.authToken, {
      url: `${base}/v1/Account/${options.authId}`,
      timeout: options.timeoutMs ?? 10_000,
    });
  }

  async send(sms: OutboundSms): Promise<SendResult> {
    // Positional form: the object form silently drops `log: false` (reference §1.2).
    const callbackUrl = sms.statusCallbackUrl ?? this.options.statusCallbackUrl ?? null;
    const optional: Record<string, string | boolean> = {
      ...(callbackUrl === null ? {} : { url: callbackUrl }),
      method: 'POST',
      type: 'sms',
      log: this.options.logContent ?? false,
    };
    const powerpack = await this.powerpack(sms);
    let response: unknown;
    try {
      response =
        powerpack === null
          ? await this.client.messages.create(sms.from, sms.to, sms.body, optional)
          : await this.client.messages.create('', sms.to, sms.body, optional, powerpack);
    } catch (error) {
      throw classifyPlivoError(error);
    }
    const uuids = field(response, 'messageUuid', 'message_uuid');
    const first = Array.isArray(uuids) ? uuids[0] : undefined;
    if (typeof first !== 'string' || first === '') {
      throw new ProviderError(
        false,
        'PROVIDER_BAD_RESPONSE',
        'Plivo accepted the request but returned no message id.',
      );
    }
    return { providerMessageId: first };
  }

  async findAccepted(
    sms: Pick<OutboundSms, 'clientRef' | 'to' | 'from' | 'orgId' | 'powerpackUuid'>,
    since: Date,
  ): Promise<string[]> {
    const powerpack = await this.powerpack(sms);
    let objects: unknown[];
    try {
      objects = await this.client.messages.list({
        message_direction: 'outbound',
        to_number: digits(sms.to),
        message_time__gte: plivoTime(new Date(since.getTime() - 60_000)),
        limit: 20,
        offset: 0,
      });
    } catch (error) {
      throw classifyPlivoError(error);
    }
    const found: { uuid: string; time: string }[] = [];
    for (const item of objects) {
      const uuid = field(item, 'messageUuid', 'message_uuid');
      const to = field(item, 'toNumber', 'to_number');
      const from = field(item, 'fromNumber', 'from_number');
      const time = field(item, 'messageTime', 'message_time');
      if (typeof uuid !== 'string' || typeof to !== 'string') continue;
      if (digits(to) !== digits(sms.to)) continue;
      // A Powerpack picks the sending number itself, so only the destination can be matched.
      if (powerpack === null && typeof from === 'string' && digits(from) !== digits(sms.from)) continue;
      found.push({ uuid, time: typeof time === 'string' ? time : '' });
    }
    found.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    return found.map((f) => f.uuid);
  }

  async ownsNumber(e164: string, query: NumberOwnershipQuery = {}): Promise<NumberOwnership> {
    const powerpack = query.powerpackUuid ?? null;
    const inPowerpack = powerpack === null ? null : await this.poolHolds(powerpack, e164);
    const account = await this.accountHolds(e164);
    return inPowerpack === null ? account : { ...account, inPowerpack };
  }

  /**
   * Whether the Powerpack's number pool holds the number: GET Powerpack/{uuid}/, then
   * GET NumberPool/{pool}/Number/{number}/ (both checked in test/server/plivo-provider.test.ts).
   */
  private async poolHolds(powerpackUuid: string, e164: string): Promise<boolean> {
    // The uuid is an organisation's setting: only a uuid goes into a request path.
    if (!PLIVO_UUID.test(powerpackUuid)) return false;
    try {
      const powerpack = await this.client.powerpacks.get(powerpackUuid);
      const pool = powerpack.number_pool_id;
      if (typeof pool !== 'string' || !PLIVO_UUID.test(pool))
        throw new ProviderError(
          false,
          'PROVIDER_BAD_RESPONSE',
          'Plivo answered the Powerpack without its number pool.',
        );
      await powerpack.find_number(digits(e164));
      return true;
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      // 404: the account has no such Powerpack, or its number pool does not hold the number.
      if (field(error, 'status') === 404) return false;
      throw classifyPlivoError(error);
    }
  }

  /** What Plivo's rented-number resource says about the number. */
  private async accountHolds(e164: string): Promise<NumberOwnership> {
    let found: unknown;
    try {
      // GET Number/{number}/ with the number as Plivo writes it (no "+"); the request is checked in
      // test/server/plivo-provider.test.ts against the fake.
      found = await this.client.numbers.get(digits(e164));
    } catch (error) {
      // Plivo answers 404 for a number the account neither rents nor has ported in.
      if (field(error, 'status') === 404)
        return { owned: false, reason: 'Plivo does not list this number on the account.' };
      throw classifyPlivoError(error);
    }
    const numberType = senderTypeOf(field(found, 'numberType', 'number_type'));
    const sms = field(found, 'smsEnabled', 'sms_enabled');
    return {
      owned: true,
      ...(numberType === undefined ? {} : { numberType }),
      ...(typeof sms === 'boolean' ? { smsEnabled: sms } : {}),
    };
  }

  /** The send's own Powerpack, else its organisation's, else the account's; null sends from `from`. */
  private async powerpack(sms: Pick<OutboundSms, 'orgId' | 'powerpackUuid'>): Promise<string | null> {
    if (sms.powerpackUuid != null) return sms.powerpackUuid;
    const orgs = sms.orgId === undefined ? null : await this.options.powerpackFor?.(sms.orgId);
    return orgs ?? this.options.powerpackUuid ?? null;
  }

  verifyWebhook(request: SignedRequest): boolean {
    return verifySignedRequest(request, this.options.authToken);
  }

  async close(): Promise<void> {}
}
