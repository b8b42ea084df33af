/** Payment requests on sandbox records: one entry per request, rewritten in place as it moves on. */
import { CrmUnavailableError } from '../errors.ts';
import { paymentBody, paymentStatusLabel, paymentTitle } from '../payment-entry.ts';
import type { ContactRef, CrmPayment, RecordedPayment } from '../types.ts';
import type { SandboxPaymentEntry, SandboxStore } from './store.ts';

/** Creates the request's entry on the record, or rewrites the one an earlier call made. */
export async function recordSandboxPayment(
  store: SandboxStore,
  payment: CrmPayment,
): Promise<RecordedPayment> {
  store.requireInstalled();
  if (store.takePaymentFailure())
    throw new CrmUnavailableError(
      'sandbox',
      'sandbox refused this payment entry (injected failure)',
      null,
      503,
    );
  // A request stays on the record it was first written to, as a real CRM's entry would.
  const ref = store.paymentKeys.get(payment.requestId) ?? payment.contact;
  const record = store.requireRecord(ref);
  const entry: SandboxPaymentEntry = {
    id: `payment:${payment.requestId}`,
    requestId: payment.requestId,
    status: payment.status,
    statusLabel: paymentStatusLabel(payment.status),
    title: paymentTitle(payment),
    body: paymentBody(payment),
    reference: payment.reference,
    createdAt: payment.createdAt,
    updatedAt: payment.updatedAt,
  };
  const index = record.payments.findIndex((p) => p.requestId === payment.requestId);
  if (index >= 0) record.payments[index] = entry;
  else record.payments.push(entry);
  store.paymentKeys.set(payment.requestId, ref);
  store.touch(record);
  return { entryId: entry.id, created: index < 0, deal: null };
}

/** Copies of the record's payment entries, oldest request first. */
export function sandboxPayments(store: SandboxStore, ref: ContactRef): SandboxPaymentEntry[] {
  return (store.recordOf(ref)?.payments ?? []).map((p) => ({ ...p }));
}
