/**
 * How the console shows each org setting: its group, label, help and input. The relay owns the
 * names and the checks (GET /v1/org/settings lists them); a name the relay knows and this list does
 * not is still shown, under "Other", with an input chosen from its value.
 */
export type FieldKind = 'text' | 'longtext' | 'boolean' | 'number' | 'notifications' | 'country';

export interface SettingField {
  key: string;
  label: string;
  help: string;
  kind: FieldKind;
}

export interface SettingGroup {
  title: string;
  /** Why the group matters, in one line. */
  intro: string;
  fields: SettingField[];
}

const text = (key: string, label: string, help: string, kind: FieldKind = 'longtext'): SettingField => ({
  key,
  label,
  help,
  kind,
});

export const SETTING_GROUPS: readonly SettingGroup[] = [
  {
    title: 'Identification and keyword replies',
    intro: 'What customers read: the name texts are signed with and the automatic answers to keywords.',
    fields: [
      text(
        'identificationName',
        'Name texts are identified with',
        'Added to a first text to a customer (TCPA: say who is texting).',
        'text',
      ),
      text('helpReply', 'HELP reply', 'Sent when a customer texts HELP: who you are and how to stop texts.'),
      text('optOutReply', 'STOP confirmation', 'The one text a customer gets after opting out.'),
      text('optInReply', 'START confirmation', 'Sent when a customer opts back in.'),
      text(
        'optInRequest',
        'Double opt-in question',
        'Sent when a rep records an opt-in and double opt-in is on.',
      ),
      text(
        'cardWarningReply',
        'Card number warning',
        'Sent when a customer texts what looks like a card number (it is removed).',
      ),
    ],
  },
  {
    title: 'Consent and quiet hours',
    intro: 'Who may be texted, and when.',
    fields: [
      {
        key: 'doubleOptIn',
        label: 'Double opt-in',
        help: 'A recorded opt-in counts only after the customer replies YES.',
        kind: 'boolean',
      },
      {
        key: 'reintroduceAfterDays',
        label: 'Re-identify after (days)',
        help: 'A customer not texted for this many days gets the identification again.',
        kind: 'number',
      },
      {
        key: 'quietHours.window',
        label: 'Your texting hours (recipient’s time)',
        help: 'e.g. 09:00-18:00. Only narrows the law’s hours (8:00–21:00 federally, stricter in some states). Unset: the law’s.',
        kind: 'text',
      },
      {
        key: 'quietHours.days',
        label: 'Days you text',
        help: 'e.g. mon,tue,wed,thu,fri. Unset: every day the law allows.',
        kind: 'text',
      },
      {
        key: 'quietHours.emergencyStates',
        label: 'Declared states of emergency',
        help: 'e.g. LA: states whose law bans texting during a declared emergency, while it lasts. Clear it when the emergency ends.',
        kind: 'text',
      },
      {
        key: 'quietHoursReplyWindowMinutes',
        label: 'Reply window in quiet hours (minutes)',
        help: 'A rep may answer a customer who texted within this many minutes, even in quiet hours (with your own hours set: outside them, never outside the law’s).',
        kind: 'number',
      },
      {
        key: 'defaultCountry',
        label: 'Default country',
        help: 'Where a number typed without its country code is read (two letters, e.g. US).',
        kind: 'country',
      },
    ],
  },
  {
    title: 'Texting policy',
    intro: 'Every person reads and acknowledges the policy (the Texting policy page) before texting.',
    fields: [
      {
        key: 'requirePolicyAcknowledgement',
        label: 'Require the policy acknowledged before texting',
        help: 'Sends are refused until a person acknowledges the current version, again when it changes and yearly.',
        kind: 'boolean',
      },
    ],
  },
  {
    title: 'Sensitive content',
    intro: 'Card numbers are always blocked; health information depends on your business.',
    fields: [
      {
        key: 'phiAllowed',
        label: 'Allow health information',
        help: 'Off: texts that mention a diagnosis, test result or prescription are refused (HIPAA).',
        kind: 'boolean',
      },
      {
        key: 'reviewSamplePercent',
        label: 'Conversations sampled for review (%)',
        help: 'The share of each day’s conversations put in the review queue (2 when unset).',
        kind: 'number',
      },
    ],
  },
  {
    title: 'Extension',
    intro:
      'What reps may not change in their panel. The relay address is locked by your browser’s enterprise policy for the extension (see the README), templates on the Templates page, and signing in again each browser session under Sign-in policy.',
    fields: [
      {
        key: 'extensionNotifications',
        label: 'Reply notifications, locked for every rep',
        help: 'Unset: each rep chooses. Off, mine (replies to their threads) or all.',
        kind: 'notifications',
      },
    ],
  },
  {
    title: 'Retention',
    intro:
      'How long texts are kept; legal holds keep what a matter needs regardless. Changing these asks for your password again.',
    fields: [
      {
        key: 'retention.messageBodyDays',
        label: 'Blank texts after (days)',
        help: 'Unset: kept. The texts’ words are removed; who texted whom and when stays.',
        kind: 'number',
      },
      {
        key: 'retention.metadataDays',
        label: 'Delete messages after (days)',
        help: 'Unset: kept. Messages and their history are deleted.',
        kind: 'number',
      },
      {
        key: 'retention.purgeCrmCopy',
        label: 'Also blank the CRM’s copy',
        help: 'Rewrites the timeline entries the relay logged in the CRM.',
        kind: 'boolean',
      },
    ],
  },
  {
    title: 'Sign-in policy',
    intro: 'How everyone in the org signs in. Changing these asks for your password again.',
    fields: [
      {
        key: 'auth.requireSecondFactor',
        label: 'Require a second factor',
        help: 'Everyone must use an authenticator app or a passkey.',
        kind: 'boolean',
      },
      {
        key: 'auth.requireSignInEachBrowserSession',
        label: 'Sign in again each browser session',
        help: 'Sessions end when the browser closes.',
        kind: 'boolean',
      },
      {
        key: 'auth.idleTimeoutMinutes',
        label: 'Idle timeout (minutes)',
        help: 'Signed out after this long without activity (30 when unset).',
        kind: 'number',
      },
      {
        key: 'auth.absoluteTimeoutHours',
        label: 'Longest session (hours)',
        help: 'Signed out after this long whatever happens (12 when unset).',
        kind: 'number',
      },
    ],
  },
];

/** The fields the groups above do not name, as an "Other" group, inputs chosen from their values. */
export function otherGroup(values: Map<string, unknown>): SettingGroup | null {
  const named = new Set(SETTING_GROUPS.flatMap((g) => g.fields.map((f) => f.key)));
  const fields = [...values.entries()]
    .filter(([key]) => !named.has(key) && key !== 'messageTemplates')
    .map(
      ([key, value]): SettingField => ({
        key,
        label: key,
        help: 'Unset uses the default.',
        kind: typeof value === 'boolean' ? 'boolean' : typeof value === 'number' ? 'number' : 'text',
      }),
    );
  return fields.length === 0
    ? null
    : {
        title: 'Payments, alerts and other settings',
        intro:
          'As `npm run cli -- org settings` names them. Payment, alert and number-pool settings ask for your password again.',
        fields,
      };
}

/** The fields of these settings, as the settings page shows them (the setup wizard's few). */
export function settingFields(keys: readonly string[]): SettingField[] {
  const all = new Map(SETTING_GROUPS.flatMap((g) => g.fields).map((f) => [f.key, f]));
  return keys.map((key) => {
    const field = all.get(key);
    if (field === undefined) throw new Error(`no setting field ${key}`);
    return field;
  });
}
