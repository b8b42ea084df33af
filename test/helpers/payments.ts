import type { Queryable } from '../../server/db/database.ts';
import { setPaymentSetting } from '../../server/payments/payment-settings.ts';

/**
 * Sets payment guard settings of an org. A file that asks one customer for many payments to test
 * other rules lifts the repeat-number hold this way; the guards have their own tests
 * (test/payments/payment-guards.test.ts).
 */
export async function setPaymentGuards(
  db: Queryable,
  orgId: string,
  settings: Record<string, string>,
): Promise<void> {
  for (const [name, value] of Object.entries(settings))
    await setPaymentSetting(db, orgId, `payments.${name}`, value);
}

/** Guards that stay out of the way of a file testing something else. */
export const MANY_LINKS = { holdLinksPerNumberPerDay: '1000', holdLinksPerHour: '1000' };
