/** Named permissions; routes declare one, roles are sets of them. */
export const PERMISSIONS = [
  'messages.send',
  /** Cancel or move texts that others scheduled; the sender may always change their own. */
  'messages.manage',
  /** Open conversations and their messages; without conversations.view_all only one's own. */
  'conversations.view',
  /** See every conversation of the org, not only those the principal sent in. */
  'conversations.view_all',
  'contacts.view',
  'numbers.view',
  'consent.view',
  'consent.record',
  /**
   * Re-open texting to a customer who opted out, with written evidence, audited: only the
   * customer may do that otherwise (START, or YES to a double opt-in question).
   */
  'consent.override',
  /** Decide flagged inbound texts that paused sending (possible opt-outs). */
  'review.flagged',
  'org.manage',
  /**
   * Choose the identity provider that may sign people in (SAML settings) and link accounts to
   * it: whoever holds it can become anyone who signs in through SSO, so only the owner has it
   * by default; it may be granted to a custom role.
   */
  'sso.manage',
  'users.manage',
  'roles.manage',
  /** See phone numbers unmasked; without it they show as +1•••••••0143. */
  'pii.view',
  /**
   * Without pii.view, unmask one contact's or conversation's number on demand; every reveal is
   * recorded in the auth log (who, whose number, when).
   */
  'pii.reveal',
  'export',
  /** Read the org's hash-chained audit log (GET /v1/audit); exporting it needs export too. */
  'audit.view',
  'payments.create',
  /** Refund a paid request (in part or whole). */
  'payments.refund',
  /** See every rep's payment requests and holds, and release a hold. */
  'payments.manage',
  'quiet_hours.override',
  /** One's own account: sessions, second factor, sign-out. Every role has it. */
  'account.self',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const all: readonly Permission[] = PERMISSIONS;
/**
 * An admin runs the org but cannot overrule a customer's opt-out (the owner's or compliance's)
 * nor choose who signs everyone in (the owner's).
 */
const adminPermissions: readonly Permission[] = PERMISSIONS.filter(
  (p) => p !== 'consent.override' && p !== 'sso.manage',
);
const everyoneReads: readonly Permission[] = [
  'conversations.view',
  'contacts.view',
  'numbers.view',
  'consent.view',
  'account.self',
];

/** Built-in roles. Custom roles (table roles) are made of the same permissions. */
export const ROLES = {
  owner: all,
  admin: adminPermissions,
  manager: [
    ...everyoneReads,
    'conversations.view_all',
    'messages.send',
    'messages.manage',
    'consent.record',
    'review.flagged',
    'pii.view',
    'export',
    'payments.create',
    'payments.refund',
    'payments.manage',
    'quiet_hours.override',
  ],
  rep: [...everyoneReads, 'messages.send', 'consent.record', 'pii.view', 'payments.create'],
  compliance_reviewer: [
    ...everyoneReads,
    'conversations.view_all',
    'consent.record',
    'consent.override',
    'review.flagged',
    'pii.view',
    'export',
  ],
  // An auditor checks threads against the record: a number only deliberately, and on the record.
  auditor: [...everyoneReads, 'conversations.view_all', 'pii.reveal', 'export', 'audit.view'],
} as const satisfies Record<string, readonly Permission[]>;
export type Role = keyof typeof ROLES;
export const ROLE_NAMES = Object.keys(ROLES) as Role[];

export function isRole(value: string): value is Role {
  return Object.hasOwn(ROLES, value);
}

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

export function permissionsOf(role: Role): readonly Permission[] {
  return ROLES[role];
}

/**
 * The permissions of a role name as stored on a user or key: a built-in role, or a custom role
 * of the org whose permission list was read with it (null when no such custom role exists).
 */
export function resolvePermissions(
  role: string,
  custom: readonly string[] | null,
): readonly Permission[] | null {
  if (isRole(role)) return permissionsOf(role);
  if (custom === null) return null;
  const known = custom.filter(isPermission);
  return known.includes('account.self') ? known : [...known, 'account.self'];
}
