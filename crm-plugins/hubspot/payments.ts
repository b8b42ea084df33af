/**
 * Payment requests on HubSpot: one note per request on the contact (found again by the request id
 * in a property install creates), and the payment properties of the deal the reference names.
 */
import { CrmRequestError } from '../errors.ts';
import { dealIdOf, majorUnits, paymentBody, paymentTitle, writtenUnlessGone } from '../payment-entry.ts';
import { CRM_PAYMENT_STATUSES, type CrmPayment, type RecordedPayment } from '../types.ts';
import { type HubSpotApi, NOTE_TO_CONTACT, NOTE_TO_DEAL } from './client.ts';
import { GROUP } from './mapping.ts';
import type { HsPropertyDef } from './wire.ts';

/** Properties the payment write-back sets: the note's key, and the deal's payment fields. */
export const PAY = {
  /** On notes: the relay's payment request id (the idempotency key of the note). */
  requestId: 'sms_relay_payment_request_id',
  status: 'sms_payment_status',
  amount: 'sms_payment_amount',
  currency: 'sms_payment_currency',
  paidAt: 'sms_payment_paid_at',
  /** On deals: the request whose status the deal's fields show. */
  dealRequest: 'sms_payment_request_id',
} as const;

/** Property groups install creates for payments. */
export const PAYMENT_GROUPS = [
  { objectType: 'notes', name: GROUP, label: 'SMS Relay' },
  { objectType: 'deals', name: GROUP, label: 'SMS Relay' },
] as const;

const dealProperty = (def: Omit<HsPropertyDef, 'groupName'>) => ({
  objectType: 'deals' as const,
  def: { ...def, groupName: GROUP },
});

/** Properties install creates for payments. */
export const PAYMENT_PROPERTIES: readonly { objectType: 'notes' | 'deals'; def: HsPropertyDef }[] = [
  {
    objectType: 'notes',
    def: {
      name: PAY.requestId,
      label: 'SMS relay payment request id',
      description: 'Internal: the payment request this note shows; keeps retries from duplicating it.',
      groupName: GROUP,
      type: 'string',
      fieldType: 'text',
    },
  },
  dealProperty({
    name: PAY.status,
    label: 'SMS payment status',
    description: 'Status of the latest payment request sent by text for this deal.',
    type: 'enumeration',
    fieldType: 'select',
    options: CRM_PAYMENT_STATUSES.map((value) => ({ label: value.replace('_', ' '), value })),
  }),
  dealProperty({
    name: PAY.amount,
    label: 'SMS payment amount',
    description: 'Amount asked by the latest payment request, in major units (e.g. 125.50).',
    type: 'number',
    fieldType: 'number',
  }),
  dealProperty({
    name: PAY.currency,
    label: 'SMS payment currency',
    description: 'ISO currency of the SMS payment amount.',
    type: 'string',
    fieldType: 'text',
  }),
  dealProperty({
    name: PAY.paidAt,
    label: 'SMS payment paid at',
    description: 'When the payment request was paid.',
    type: 'datetime',
    fieldType: 'date',
  }),
  dealProperty({
    name: PAY.dealRequest,
    label: 'SMS payment request id',
    description: 'Internal: the relay payment request the SMS payment fields show.',
    type: 'string',
    fieldType: 'text',
  }),
];

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A note body is rich text: each line of the plain body as its own escaped line. */
function noteBody(payment: CrmPayment): string {
  const lines = [`<strong>${escapeHtml(paymentTitle(payment))}</strong>`];
  for (const line of paymentBody(payment).split('\n')) lines.push(escapeHtml(line));
  return lines.join('<br>');
}

function dealProperties(payment: CrmPayment): Record<string, string> {
  return {
    [PAY.status]: payment.status,
    [PAY.amount]: String(majorUnits(payment.amountMinor, payment.currency)),
    [PAY.currency]: payment.currency.toUpperCase(),
    [PAY.paidAt]: payment.paidAt?.toISOString() ?? '',
    [PAY.dealRequest]: payment.requestId,
  };
}

/** The note of this request: by the id an earlier call returned, else by a search on its key. */
async function existingNote(api: HubSpotApi, payment: CrmPayment): Promise<string | null> {
  if (payment.entryId !== undefined && payment.entryId !== null && /^\d{1,20}$/.test(payment.entryId)) {
    const known = await api.getById('notes', payment.entryId, [PAY.requestId]);
    if (known?.properties[PAY.requestId] === payment.requestId) return known.id;
  }
  let page: Awaited<ReturnType<HubSpotApi['search']>>;
  try {
    page = await api.search('notes', {
      filterGroups: [[{ propertyName: PAY.requestId, operator: 'EQ', value: payment.requestId }]],
      properties: [PAY.requestId],
      sorts: [{ propertyName: 'hs_object_id', direction: 'ASCENDING' }],
      limit: 1,
    });
  } catch (error) {
    // A search on a property HubSpot does not have is refused without naming the cause: look.
    if (error instanceof CrmRequestError && error.code === 'invalid_request') {
      if (!(await api.listProperties('notes')).includes(PAY.requestId))
        throw new CrmRequestError(
          'hubspot',
          'not_installed',
          `${PAY.requestId} is not installed on notes; run crm install`,
        );
    }
    throw error;
  }
  return page.results[0]?.id ?? null;
}

/** Creates or rewrites the request's note, and the named deal's payment properties. */
export async function recordHubSpotPayment(api: HubSpotApi, payment: CrmPayment): Promise<RecordedPayment> {
  const dealId = dealIdOf('hubspot', payment.reference);
  const dealUpdated =
    dealId !== null && (await writtenUnlessGone(() => api.update('deals', dealId, dealProperties(payment))));
  const properties = {
    hs_note_body: noteBody(payment),
    hs_timestamp: payment.createdAt.toISOString(),
    [PAY.requestId]: payment.requestId,
  };
  const deal = dealId === null ? null : { id: dealId, updated: dealUpdated };
  const existing = await existingNote(api, payment);
  if (existing !== null) {
    await api.update('notes', existing, properties);
    return { entryId: existing, created: false, deal };
  }
  const associations = [{ id: payment.contact.id, typeId: NOTE_TO_CONTACT }];
  if (dealId !== null && dealUpdated) associations.push({ id: dealId, typeId: NOTE_TO_DEAL });
  // An association to a contact that is gone fails the create (404): no orphan note is left.
  const created = await api.create('notes', properties, associations);
  return { entryId: created.id, created: true, deal };
}
