import type { SenderNumberType } from '../../contract/numbers.ts';

/** One text to hand to the SMS network. */
export interface OutboundSms {
  /** Our message id; lets a provider look the send up again after a crash. */
  clientRef: string;
  from: string;
  to: string;
  body: string;
  /** The sending organisation, for a provider with per-organisation settings (Plivo's Powerpack). */
  orgId?: string;
  /** Overrides the status callback URL the provider was built with (tests, one-off sends). */
  statusCallbackUrl?: string;
  /** Overrides the Powerpack (Plivo's number pool) the provider would pick for the organisation. */
  powerpackUuid?: string | null;
}

export interface SendResult {
  providerMessageId: string;
  segments?: number;
}

/** A provider refusal; `retryable` says whether trying again later can succeed. */
export class ProviderError extends Error {
  constructor(
    readonly retryable: boolean,
    readonly code: string,
    message: string,
    readonly httpStatus?: number,
    /** The request may have reached the provider (timeout, reset): reconcile before any resend. */
    readonly ambiguous = false,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** A webhook request as the verifier needs it: the public URL the provider called and its params. */
export interface SignedRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string | string[] | undefined>;
  params: Record<string, string>;
}

/**
 * What the provider says about a number an organisation wants to send from. `numberType` and
 * `smsEnabled` are given when the provider knows them; `inPowerpack` exactly when it was asked
 * about a Powerpack (NumberOwnershipQuery).
 */
export type NumberOwnership = (
  | { owned: true; numberType?: SenderNumberType; smsEnabled?: boolean }
  | { owned: false; reason: string }
) & { inPowerpack?: boolean };

/** What else to ask about the number: whether a Powerpack (Plivo's number pool) holds it; null: nothing. */
export interface NumberOwnershipQuery {
  powerpackUuid?: string | null;
}

/** What the relay needs from an SMS network (Plivo, the sandbox). */
export interface SmsProvider {
  readonly name: string;
  send(sms: OutboundSms): Promise<SendResult>;
  /**
   * Provider ids of messages it accepted for this destination since `since`, oldest first, for
   * crash recovery: the worker takes the first one it has not recorded for another message.
   */
  findAccepted(
    sms: Pick<OutboundSms, 'clientRef' | 'to' | 'from' | 'orgId' | 'powerpackUuid'>,
    since: Date,
  ): Promise<string[]>;
  /**
   * Whether the provider account the relay sends through holds the number (rented or ported in),
   * and, when asked, whether that Powerpack's number pool holds it (`inPowerpack`), asked before an
   * organisation registers it. Throws ProviderError when the provider cannot say.
   */
  ownsNumber(e164: string, query?: NumberOwnershipQuery): Promise<NumberOwnership>;
  /** Checks a webhook's signature before anything in it is trusted. */
  verifyWebhook(request: SignedRequest): boolean;
  close(): Promise<void>;
}
