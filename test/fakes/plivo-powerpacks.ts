import { randomUUID } from 'node:crypto';
import type { FakeRentedNumbers } from './plivo-numbers.ts';

/**
 * Plivo's Powerpacks for the fake: GET /v1/Account/{auth_id}/Powerpack/{uuid}/ answers the
 * Powerpack object as Plivo documents it (snake_case, its number pool as a resource URI in
 * `number_pool`), and GET /v1/Account/{auth_id}/NumberPool/{pool_uuid}/Number/{number}/ a number of
 * that pool (no "+"); 404 with Plivo's error body for an unknown Powerpack, pool or number.
 */

/** How the next lookups fail before any Powerpack or number is looked at. */
export type PowerpackLookupFailure = '500' | '429';

interface FakePowerpack {
  uuid: string;
  name: string;
  poolUuid: string;
  createdOn: Date;
  /** The pool's numbers (no "+") and when each was added. */
  numbers: Map<string, Date>;
}

const digits = (n: string): string => n.replace(/^\+/, '');

export class FakePowerpacks {
  private readonly powerpacks = new Map<string, FakePowerpack>();
  readonly queuedFailures: PowerpackLookupFailure[] = [];

  constructor(
    private readonly authId: string,
    private readonly rented: FakeRentedNumbers,
  ) {}

  /** A new Powerpack on the account, with an empty number pool; answers its uuid. */
  create(name: string): string {
    const uuid = randomUUID();
    this.powerpacks.set(uuid, {
      uuid,
      name,
      poolUuid: randomUUID(),
      createdOn: new Date(),
      numbers: new Map(),
    });
    return uuid;
  }

  /** The uuid of the Powerpack's number pool (Plivo names it in the Powerpack's `number_pool`). */
  poolUuidOf(uuid: string): string {
    const powerpack = this.powerpacks.get(uuid);
    if (powerpack === undefined) throw new Error(`fake Plivo: no Powerpack ${uuid}`);
    return powerpack.poolUuid;
  }

  /** Adds one of the account's numbers to the Powerpack's pool; like Plivo, only a number the account holds. */
  add(uuid: string, number: string): void {
    const powerpack = this.powerpacks.get(uuid);
    if (powerpack === undefined) throw new Error(`fake Plivo: no Powerpack ${uuid}`);
    if (this.rented.numberTypeOf(number) === undefined)
      throw new Error(`fake Plivo: the account does not hold ${number}; rent it first`);
    powerpack.numbers.set(digits(number), new Date());
  }

  /** The answer to a request on these resources, or null when the request is for another resource. */
  answer(method: string, pathname: string): { status: number; body: unknown } | null {
    const account = `/v1/Account/${this.authId}/`;
    if (method !== 'GET' || !pathname.startsWith(account)) return null;
    const parts = pathname.slice(account.length).replace(/\/$/, '').split('/').map(decodeURIComponent);
    const isPowerpack = parts.length === 2 && parts[0] === 'Powerpack';
    const isPoolNumber = parts.length === 4 && parts[0] === 'NumberPool' && parts[2] === 'Number';
    if (!isPowerpack && !isPoolNumber) return null;
    const failure = this.queuedFailures.shift();
    if (failure === '500')
      return { status: 500, body: { api_id: randomUUID(), error: 'internal server error' } };
    if (failure === '429') return { status: 429, body: { api_id: randomUUID(), error: 'too many requests' } };
    const found = isPowerpack
      ? this.powerpackObject(parts[1] ?? '')
      : this.poolNumberObject(parts[1] ?? '', parts[3] ?? '');
    if (found === null) return { status: 404, body: { api_id: randomUUID(), error: 'not found' } };
    return { status: 200, body: { api_id: randomUUID(), ...found } };
  }

  private powerpackObject(uuid: string): Record<string, unknown> | null {
    const powerpack = this.powerpacks.get(uuid);
    if (powerpack === undefined) return null;
    return {
      application_id: '',
      application_type: '',
      created_on: powerpack.createdOn.toISOString(),
      local_connect: false,
      name: powerpack.name,
      number_pool: `/v1/Account/${this.authId}/NumberPool/${powerpack.poolUuid}/`,
      number_priority: [
        {
          country_iso: 'US',
          priority: { priority1: 'shortcode', priority2: 'tollfree', priority3: 'longcode' },
          service_type: 'SMS',
        },
      ],
      sticky_sender: true,
      uuid: powerpack.uuid,
    };
  }

  private poolNumberObject(poolUuid: string, number: string): Record<string, unknown> | null {
    const powerpack = [...this.powerpacks.values()].find((p) => p.poolUuid === poolUuid);
    const n = digits(number);
    const addedOn = powerpack?.numbers.get(n);
    if (powerpack === undefined || addedOn === undefined) return null;
    const type = this.rented.numberTypeOf(n);
    return {
      account_phone_number_resource: `/v1/Account/${this.authId}/Number/${n}/`,
      added_on: addedOn.toISOString(),
      country_iso2: n.startsWith('1') ? 'US' : null,
      number: n,
      number_pool_uuid: powerpack.poolUuid,
      service: 'sms',
      type: type === 'tollfree' ? 'tollfree' : type === 'mobile' ? 'mobile' : 'fixed',
    };
  }
}
