import { systemClock } from '../clock.ts';
import { ApiError } from '../errors.ts';
import { requireOrg } from '../organisations/org-admin.ts';
import { releaseHold } from '../payments/hold-release.ts';
import { formatAmount } from '../payments/payment-links.ts';
import { holdRows } from '../payments/payment-queries.ts';
import { CLI_ACTOR, type Command } from './command.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHOWN = 200;
// biome-ignore lint/suspicious/noControlCharactersInRegex: it looks for them, as the API's note schema does
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/**
 * `payments holds` and `payments release`: the guards' holds for an operator at the relay, as
 * GET /v1/payment-holds and its release are for a manager (the managers' alert mail names both).
 */
export const HOLD_COMMANDS: Record<string, Command> = {
  'payments holds': {
    summary: "An organisation's payment holds, newest first (open ones unless --all)",
    usage: 'payments holds --org <orgId> [--all] [--json]',
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      all: { help: 'released holds too', value: false },
    },
    async run(db, flags) {
      const org = await requireOrg(db, flags.org ?? '');
      const open = flags.all !== 'true';
      const rows = await holdRows(db, org.id, { open, cursor: null, limit: SHOWN });
      const holds = rows.slice(0, SHOWN).map((h) => ({
        id: h.id,
        reason: h.reason,
        rep: h.rep_name,
        phone: h.phone_e164,
        requestId: h.request_id,
        amountMinor: h.amount_minor === null ? null : Number(h.amount_minor),
        currency: h.currency,
        createdAt: h.created_at.toISOString(),
        releasedAt: h.released_at?.toISOString() ?? null,
        releasedBy: h.released_by,
      }));
      const more = rows.length > SHOWN ? [`… and more: GET /v1/payment-holds pages through them all.`] : [];
      return {
        json: { holds, more: rows.length > SHOWN },
        text:
          holds.length === 0
            ? `No ${open ? 'open ' : ''}payment holds in ${org.name}.`
            : [
                ...holds.map((h) =>
                  [
                    h.id,
                    h.createdAt.slice(0, 16).replace('T', ' '),
                    h.reason,
                    h.rep ?? '-',
                    h.phone ?? '-',
                    h.amountMinor === null || h.currency === null
                      ? '-'
                      : formatAmount(h.amountMinor, h.currency),
                    h.releasedAt === null
                      ? 'open'
                      : `released ${h.releasedAt.slice(0, 16).replace('T', ' ')}`,
                  ].join('  '),
                ),
                ...more,
              ].join('\n'),
      };
    },
  },
  'payments release': {
    summary: 'Release a payment hold once you have checked it (recorded with your note)',
    usage: 'payments release --org <orgId> --hold <holdId> [--note <why>] [--json]',
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      hold: { help: 'the hold id (payments holds lists them)', required: true, value: true },
      note: { help: 'why it may go ahead (kept with the hold and in the audit log)', value: true },
    },
    async run(db, flags) {
      const org = await requireOrg(db, flags.org ?? '');
      const holdId = flags.hold ?? '';
      if (!UUID.test(holdId)) throw new ApiError(400, 'INVALID_HOLD_ID', `"${holdId}" is not a hold id.`);
      const note = flags.note?.trim() || null;
      if (note !== null && (note.length > 500 || CONTROL.test(note)))
        throw new ApiError(
          400,
          'INVALID_NOTE',
          'The note must be at most 500 characters, without control characters.',
        );
      await releaseHold(db, { orgId: org.id, holdId, actor: CLI_ACTOR, note, at: systemClock() });
      return {
        json: { released: holdId, orgId: org.id, note },
        text: `Released hold ${holdId} in ${org.name}.`,
      };
    },
  },
};
