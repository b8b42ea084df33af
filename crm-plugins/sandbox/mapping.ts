import { statusLabel } from '../batching.ts';
import type { CrmMessage, CrmMessageStatus, InstallPlan } from '../types.ts';

/** A message as it shows on a sandbox record's timeline. */
export interface SandboxTimelineEntry {
  externalKey: string;
  direction: CrmMessage['direction'];
  body: string;
  occurredAt: Date;
  /** Outbound delivery status as last written (null for inbound or unknown). */
  status: CrmMessageStatus | null;
  title: string;
}

/** The fields install adds to sandbox records, mirroring what the real CRMs get. */
export const SANDBOX_FIELDS = [
  { target: 'contact.sms_consent_status', description: 'SMS consent status' },
  { target: 'contact.sms_consent_updated_at', description: 'When SMS consent last changed' },
  { target: 'contact.sms_consent_source', description: 'Where SMS consent came from' },
  { target: 'contact.sms_last_sms_at', description: 'When the last SMS was sent or received' },
  { target: 'timeline.sms_relay_message_id', description: 'The relay message id of a timeline entry' },
  {
    target: 'payment.sms_relay_payment_request_id',
    description: 'The relay payment request of a payment entry',
  },
] as const;

/** The install plan given which fields exist. */
export function sandboxPlan(exists: (target: string) => boolean): InstallPlan {
  return {
    crm: 'sandbox',
    steps: SANDBOX_FIELDS.map((f) => ({
      kind: 'property' as const,
      target: f.target,
      action: exists(f.target) ? ('exists' as const) : ('create' as const),
      description: f.description,
    })),
  };
}

/** A message as a timeline entry. */
export function toSandboxEntry(message: CrmMessage): SandboxTimelineEntry {
  const who = message.customerPhone ?? 'the contact';
  return {
    externalKey: message.externalKey,
    direction: message.direction,
    body: message.body,
    occurredAt: message.occurredAt,
    status: message.direction === 'outbound' ? (message.status ?? null) : null,
    title:
      message.direction === 'inbound'
        ? `SMS received from ${who}`
        : `SMS sent to ${who}${statusLabel(message) === '' ? '' : ` (${statusLabel(message)})`}`,
  };
}
