// The plivo package ships no types; this declares only what plivo.ts uses, with unknown results
// that plivo.ts parses at the boundary.
declare module 'plivo' {
  export class Client {
    constructor(
      authId: string,
      authToken: string,
      options?: { url?: string; timeout?: number; proxy?: string },
    );
    messages: {
      create(
        src: string,
        dst: string,
        text: string,
        optionalParams?: Record<string, string | boolean | number>,
        powerpackUUID?: string,
      ): Promise<unknown>;
      list(params: Record<string, string | number>): Promise<unknown[]>;
    };
    numbers: {
      /** GET Number/{number}/: a number the account rents; rejects with status 404 for any other. */
      get(number: string): Promise<unknown>;
    };
    powerpacks: {
      /** GET Powerpack/{uuid}/; rejects with status 404 for a Powerpack the account does not have. */
      get(uuid: string): Promise<Powerpack>;
    };
  }
  /** A Powerpack as the SDK builds it: Plivo's fields plus the id it parses from `number_pool`. */
  export interface Powerpack {
    readonly number_pool_id?: unknown;
    /** GET NumberPool/{number_pool_id}/Number/{number}/; rejects with status 404 for a number not in the pool. */
    find_number(number: string): Promise<unknown>;
  }
}
