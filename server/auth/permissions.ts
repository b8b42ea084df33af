/** Named permissions; routes declare one, roles are sets of them. */
export const PERMISSIONS = [
  'messages.send',
  'conversations.view',
  'contacts.view',
  'numbers.view',
  'consent.view',
  'consent.record',
  /** Decide flagged inbound texts that paused sending (possible opt-outs). */
  'review.flagged',
  'org.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const all: readonly Permission[] = PERMISSIONS;
const everyoneReads: readonly Permission[] = [
  'conversations.view',
  'contacts.view',
  'numbers.view',
  'consent.view',
];

/** Built-in roles. The identity issue (#7) adds custom roles made of the same permissions. */
export const ROLES = {
  owner: all,
  admin: all,
  manager: [...everyoneReads, 'messages.send', 'consent.record', 'review.flagged'],
  rep: [...everyoneReads, 'messages.send', 'consent.record'],
  compliance_reviewer: [...everyoneReads, 'consent.record', 'review.flagged'],
  auditor: everyoneReads,
} as const satisfies Record<string, readonly Permission[]>;
export type Role = keyof typeof ROLES;
export const ROLE_NAMES = Object.keys(ROLES) as Role[];

export function isRole(value: string): value is Role {
  return Object.hasOwn(ROLES, value);
}

export function permissionsOf(role: Role): readonly Permission[] {
  return ROLES[role];
}
