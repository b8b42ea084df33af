/**
 * What each permission lets a person do, in a phrase, for the roles page. The relay owns the
 * names (GET /v1/roles lists them); a name missing here is shown as it is.
 */
export const PERMISSION_LABELS: Readonly<Record<string, string>> = {
  'messages.send': 'Send texts',
  'messages.manage': 'Cancel or move texts others scheduled',
  'conversations.view': 'Read their own conversations',
  'conversations.view_all': 'Read every conversation',
  'contacts.view': 'Look up contacts',
  'numbers.view': 'See the sender numbers',
  'consent.view': 'See opt-in status',
  'consent.record': 'Record an opt-in or opt-out',
  'consent.override': 'Re-open texting after an opt-out, with evidence',
  'review.flagged': 'Decide flagged texts in the review queue',
  'org.manage': 'Change the organisation’s settings, numbers and CRM',
  'sso.manage': 'Choose the identity provider everyone signs in with',
  'users.manage': 'Invite, change and deactivate people',
  'roles.manage': 'Create roles',
  'pii.view': 'See phone numbers unmasked',
  'pii.reveal': 'Unmask one number on demand (recorded)',
  export: 'Export reports and the audit log',
  'audit.view': 'Read the audit log',
  'payments.create': 'Send payment links',
  'payments.refund': 'Refund payments',
  'payments.manage': 'See every payment request and release holds',
  'quiet_hours.override': 'Quiet-hours override (reserved: no check uses it yet)',
  'account.self': 'Manage their own account',
};

export const permissionLabel = (permission: string): string => PERMISSION_LABELS[permission] ?? permission;
