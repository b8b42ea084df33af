/**
 * Payment requests on Salesforce: one Task per request on the Contact or Lead, upserted on the
 * request id (an external id install creates), and the payment fields of the Opportunity the
 * reference names.
 */
import { dealIdOf, majorUnits, paymentBody, paymentTitle, writtenUnlessGone } from '../payment-entry.ts';
import {
  CRM_PAYMENT_STATUSES,
  type CrmPayment,
  type CrmPaymentStatus,
  type RecordedPayment,
} from '../types.ts';
import { type SalesforceApi, toCrmError } from './client.ts';
import type { CustomFieldSpec } from './mapping.ts';

/** The custom fields the payment write-back sets (on Task and on Opportunity). */
export const PF = {
  /** On Task and Opportunity: the relay's payment request id (on Task an external id, unique). */
  requestId: 'SMS_Payment_Request_Id__c',
  status: 'SMS_Payment_Status__c',
  amount: 'SMS_Payment_Amount__c',
  currency: 'SMS_Payment_Currency__c',
  paidAt: 'SMS_Payment_Paid_At__c',
} as const;

const opportunityField = (name: string, metadata: Record<string, unknown>): CustomFieldSpec => ({
  table: 'Opportunity',
  sobject: 'Opportunity',
  name,
  metadata,
});

/** Every payment field install creates, in order. */
export const PAYMENT_FIELDS: readonly CustomFieldSpec[] = [
  {
    table: 'Activity',
    sobject: 'Task',
    name: PF.requestId,
    metadata: {
      label: 'SMS Payment Request Id',
      type: 'Text',
      length: 64,
      externalId: true,
      unique: true,
      caseSensitive: true,
      description: 'Internal: the relay payment request a Task shows; keeps retries from duplicating it.',
    },
  },
  opportunityField(PF.status, {
    label: 'SMS Payment Status',
    type: 'Picklist',
    description: 'Status of the latest payment request sent by text for this opportunity.',
    valueSet: {
      restricted: true,
      valueSetDefinition: {
        sorted: false,
        value: CRM_PAYMENT_STATUSES.map((v) => ({ fullName: v, label: v.replace('_', ' '), default: false })),
      },
    },
  }),
  opportunityField(PF.amount, {
    label: 'SMS Payment Amount',
    type: 'Number',
    precision: 16,
    scale: 2,
    description: 'Amount asked by the latest payment request, in major units.',
  }),
  opportunityField(PF.currency, {
    label: 'SMS Payment Currency',
    type: 'Text',
    length: 3,
    description: 'ISO currency of the SMS payment amount.',
  }),
  opportunityField(PF.paidAt, {
    label: 'SMS Payment Paid At',
    type: 'DateTime',
    description: 'When the payment request was paid.',
  }),
  opportunityField(PF.requestId, {
    label: 'SMS Payment Request Id',
    type: 'Text',
    length: 64,
    description: 'Internal: the relay payment request the SMS payment fields show.',
  }),
];

/** Statuses in which the request still waits on the customer or the provider: the Task stays open. */
const PENDING: readonly CrmPaymentStatus[] = ['sent', 'opened', 'checkout_started', 'processing'];

function toPaymentTask(payment: CrmPayment, opportunityId: string | null): Record<string, unknown> {
  return {
    [PF.requestId]: payment.requestId,
    WhoId: payment.contact.id,
    // A Task on a Lead may not name an Opportunity (Salesforce refuses WhatId with a Lead WhoId).
    ...(opportunityId !== null && payment.contact.objectType === 'contact' ? { WhatId: opportunityId } : {}),
    Subject: paymentTitle(payment).slice(0, 255),
    Description: paymentBody(payment).slice(0, 32_000),
    Status: PENDING.includes(payment.status) ? 'In Progress' : 'Completed',
    Priority: 'Normal',
    ActivityDate: payment.createdAt.toISOString().slice(0, 10),
  };
}

function opportunityFields(payment: CrmPayment): Record<string, unknown> {
  return {
    [PF.status]: payment.status,
    [PF.amount]: majorUnits(payment.amountMinor, payment.currency),
    [PF.currency]: payment.currency.toUpperCase(),
    [PF.paidAt]: payment.paidAt?.toISOString() ?? null,
    [PF.requestId]: payment.requestId,
  };
}

/** Upserts the request's Task, and the named Opportunity's payment fields. */
export async function recordSalesforcePayment(
  api: SalesforceApi,
  payment: CrmPayment,
): Promise<RecordedPayment> {
  const opportunityId = dealIdOf('salesforce', payment.reference);
  const updated =
    opportunityId !== null &&
    (await writtenUnlessGone(() => api.update('Opportunity', opportunityId, opportunityFields(payment))));
  const [row] = await api.upsertMany('Task', PF.requestId, [
    toPaymentTask(payment, updated ? opportunityId : null),
  ]);
  if (row === undefined || !row.success || row.id === null) {
    const first = row?.errors[0];
    const failure = Object.assign(new Error(first?.message ?? 'Salesforce did not save the Task'), {
      errorCode: first?.code ?? 'UNKNOWN',
    });
    throw toCrmError('record payment', failure);
  }
  return {
    entryId: row.id,
    created: row.created,
    deal: opportunityId === null ? null : { id: opportunityId, updated },
  };
}
