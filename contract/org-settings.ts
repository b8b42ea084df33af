import { Type } from 'typebox';

/** One org setting as the admin console edits it: its value, null when unset (its default applies). */
const SettingValue = Type.Unknown({
  description: 'A string, number, boolean, template list or null (unset: the default applies)',
});

/** Every setting of the org (GET /v1/org/settings), by name: `helpReply`, `auth.requireSecondFactor`, … */
export const OrgSettingsSchema = Type.Object(
  {
    settings: Type.Array(Type.Object({ key: Type.String(), value: SettingValue })),
  },
  { description: "The org's settings, every known name listed, unset ones as null" },
);

/** One setting after a change (PUT /v1/org/settings/:key). */
export const OrgSettingSchema = Type.Object(
  { key: Type.String(), value: SettingValue },
  { description: 'The setting as it is now' },
);
