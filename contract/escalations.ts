import { type Static, Type } from 'typebox';

export const EscalationLoggedSchema = Type.Object(
  {
    activity: Type.Object({
      id: Type.String({ description: "The task's id in the CRM" }),
      kind: Type.Union([Type.Literal('call'), Type.Literal('email')]),
      crm: Type.String(),
    }),
  },
  { description: 'The call or email task logged on the CRM record' },
);
export type EscalationLoggedBody = Static<typeof EscalationLoggedSchema>;
