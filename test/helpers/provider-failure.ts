import { expect } from 'vitest';
import { ProviderError } from '../../server/providers/sms-provider.ts';

/** Awaits a send that must fail and returns its ProviderError (fails the test otherwise). */
export async function providerFailure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error('expected a ProviderError');
}
