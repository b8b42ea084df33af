import { randomUUID } from 'node:crypto';

/**
 * Plivo's rented-numbers resource for the fake (GET /v1/Account/{auth_id}/Number/{number}/): the
 * numbers the account rents or has ported in, answered as Plivo documents its AccountPhoneNumber
 * object (snake_case, numbers without "+", dates as YYYY-MM-DD), and 404 with Plivo's error body
 * for any other number.
 */

/** Plivo's number_type values for rented numbers. */
export type PlivoNumberType = 'local' | 'fixed' | 'mobile' | 'national' | 'tollfree';

export interface RentedNumberOptions {
  alias?: string | null;
  numberType?: PlivoNumberType;
  smsEnabled?: boolean;
  /** Plivo or, for a number ported in from a carrier, that carrier's name. */
  carrier?: string;
}

/** How the next lookups fail before any number is looked at. */
export type NumberLookupFailure = '500' | '429';

const digits = (n: string): string => n.replace(/^\+/, '');
const day = (d: Date): string => d.toISOString().slice(0, 10);

export class FakeRentedNumbers {
  private readonly rented = new Map<string, Record<string, unknown>>();
  readonly queuedFailures: NumberLookupFailure[] = [];

  constructor(private readonly authId: string) {}

  /** The account now rents the number (E.164, with or without "+"). */
  rent(number: string, options: RentedNumberOptions = {}): void {
    const n = digits(number);
    const now = new Date();
    const renewal = new Date(now.getTime() + 30 * 86_400_000);
    const tollFree = options.numberType === 'tollfree';
    this.rented.set(n, {
      number: n,
      alias: options.alias ?? null,
      sub_account: null,
      added_on: day(now),
      application: `/v1/Account/${this.authId}/Application/29986316244302815/`,
      carrier: options.carrier ?? 'Plivo',
      region: tollFree ? 'UNITED STATES' : 'WASHINGTON, DC, UNITED STATES',
      number_type: options.numberType ?? 'local',
      monthly_rental_rate: tollFree ? '1.00000' : '0.50000',
      renewal_date: day(renewal),
      sms_enabled: options.smsEnabled ?? true,
      sms_rate: '0.00000',
      mms_enabled: false,
      mms_rate: '0.00000',
      voice_enabled: true,
      voice_rate: '0.00850',
      cnam_lookup: null,
      tendlc_campaign_id: null,
      tendlc_registration_status: tollFree ? null : 'COMPLETED',
      toll_free_sms_verification: tollFree ? 'VERIFIED' : null,
      resource_uri: `/v1/Account/${this.authId}/Number/${n}/`,
    });
  }

  /** The Plivo number_type of a number the account holds, or undefined for any other number. */
  numberTypeOf(number: string): PlivoNumberType | undefined {
    return this.rented.get(digits(number))?.number_type as PlivoNumberType | undefined;
  }

  /** The account no longer holds the number. */
  release(number: string): void {
    this.rented.delete(digits(number));
  }

  /** The answer to a request on this resource, or null when the request is for another resource. */
  answer(method: string, pathname: string): { status: number; body: unknown } | null {
    const base = `/v1/Account/${this.authId}/Number/`;
    if (method !== 'GET' || !pathname.startsWith(base)) return null;
    const one = decodeURIComponent(pathname.slice(base.length).replace(/\/$/, ''));
    if (one === '' || one.includes('/')) return null;
    const failure = this.queuedFailures.shift();
    if (failure === '500')
      return { status: 500, body: { api_id: randomUUID(), error: 'internal server error' } };
    if (failure === '429') return { status: 429, body: { api_id: randomUUID(), error: 'too many requests' } };
    const found = this.rented.get(digits(one));
    if (found === undefined) return { status: 404, body: { api_id: randomUUID(), error: 'not found' } };
    return { status: 200, body: { api_id: randomUUID(), ...found } };
  }
}
