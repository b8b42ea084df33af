import { ApiError } from '../errors.ts';
import { requireOrg } from '../organisations/org-admin.ts';
import { orgPhone } from '../organisations/org-phone.ts';
import { type Command, UsageError } from './command.ts';

/** `number route`: where a first reply to a number goes when no rep has texted the customer. */
export const INBOX_COMMANDS: Record<string, Command> = {
  'number route': {
    summary: "Send first replies to a number to a user (the number's default assignee), or to the queue",
    usage: 'number route --org <orgId> --number <+15551234567> (--email <address> | --queue) [--json]',
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      number: { help: 'one of the org’s sender numbers', required: true, value: true },
      email: { help: 'an active user of the org who gets first replies', value: true },
      queue: { help: 'first replies go to the unassigned queue (the default)' },
    },
    async run(db, flags) {
      const orgId = flags.org ?? '';
      const email = flags.email?.trim().toLowerCase();
      if ((email === undefined) === (flags.queue === undefined))
        throw new UsageError('give either --email <address> or --queue');
      return db.transaction(async (tx) => {
        await requireOrg(tx, orgId);
        const e164 = await orgPhone(tx, orgId, 'number', flags.number ?? '');
        let userId: string | null = null;
        if (email !== undefined) {
          const [user] = await tx.query<{ id: string }>(
            `SELECT id FROM users WHERE org_id = $1 AND email = $2 AND status = 'active'`,
            [orgId, email],
          );
          if (user === undefined)
            throw new ApiError(404, 'USER_NOT_FOUND', `No active user ${email} in this organisation.`);
          userId = user.id;
        }
        const updated = await tx.query(
          'UPDATE sender_numbers SET default_assignee_user_id = $3 WHERE org_id = $1 AND e164 = $2 RETURNING 1',
          [orgId, e164, userId],
        );
        if (updated.length === 0)
          throw new ApiError(
            404,
            'UNKNOWN_SENDER_NUMBER',
            `${e164} is not one of this organisation’s numbers.`,
          );
        return {
          json: { number: e164, defaultAssignee: email ?? null },
          text:
            email === undefined
              ? `First replies to ${e164} go to the unassigned queue`
              : `First replies to ${e164} go to ${email}`,
        };
      });
    },
  },
};
