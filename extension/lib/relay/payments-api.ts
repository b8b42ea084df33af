import type { ContactRef } from '../../hosts/types.ts';
import {
  type Payment,
  type PaymentCreated,
  type PaymentPreview,
  type PaymentTerms,
  parsePaymentAnswer,
  parsePaymentCreated,
  parsePaymentList,
  parsePaymentPreview,
  parsePaymentTerms,
} from '../payment-types.ts';
import { callRelay, type RelayClient } from './relay-client.ts';

/** The body of `POST /v1/payment-requests` and of its preview. */
export interface PaymentRequestInput {
  from: string;
  /** Left out for a rep who sees the number masked: the relay texts the CRM record's number. */
  to?: string;
  contact?: Pick<ContactRef, 'crm' | 'objectType' | 'id'>;
  amountMinor: number;
  currency?: string;
  description: string;
  reference?: string;
  expiresInDays?: number;
}

/**
 * The relay's payment request API (`/v1/payment-requests`), through the panel's relay client so a
 * refreshed session serves these calls too. Every answer is parsed before the UI sees it.
 */
export class PaymentsApi {
  constructor(private readonly client: RelayClient) {}

  /** What a rep may ask for: the org's currencies, link lifetime and largest amount. */
  terms(signal?: AbortSignal): Promise<PaymentTerms> {
    return this.call('GET', '/v1/payment-requests/terms', parsePaymentTerms, { signal });
  }

  /** The exact text a request would send, what the send rules would say, and the org's terms. */
  preview(input: PaymentRequestInput, signal?: AbortSignal): Promise<PaymentPreview> {
    return this.call('POST', '/v1/payment-requests/preview', parsePaymentPreview, { body: input, signal });
  }

  /** Stores the request and texts the link; a retry with the same key answers the same request. */
  request(input: PaymentRequestInput, idempotencyKey: string, signal?: AbortSignal): Promise<PaymentCreated> {
    return this.call('POST', '/v1/payment-requests', parsePaymentCreated, {
      body: input,
      headers: { 'Idempotency-Key': idempotencyKey },
      signal,
    });
  }

  ofConversation(conversationId: string, signal?: AbortSignal): Promise<Payment[]> {
    const q = new URLSearchParams({ conversationId });
    return this.call('GET', `/v1/payment-requests?${q}`, parsePaymentList, { signal });
  }

  cancel(id: string, signal?: AbortSignal): Promise<Payment> {
    return this.call('POST', `/v1/payment-requests/${encodeURIComponent(id)}/cancel`, parsePaymentAnswer, {
      signal,
    });
  }

  /** Texts the one reminder a request may have; the send rules apply as to any text. */
  remind(id: string, signal?: AbortSignal): Promise<PaymentCreated> {
    return this.call('POST', `/v1/payment-requests/${encodeURIComponent(id)}/remind`, parsePaymentCreated, {
      signal,
    });
  }

  private call<T>(
    method: 'GET' | 'POST',
    path: string,
    parse: (value: unknown) => T,
    options: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal | undefined },
  ): Promise<T> {
    // The client's fetcher adds the session's token itself (and refreshes it once on a 401).
    return callRelay(this.client.fetcher, this.client.baseUrl, method, path, parse, options);
  }
}
