import { systemClock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { type NumberOwnershipCheck, registerSenderNumber } from '../organisations/sender-number-admin.ts';
import { PlivoProvider } from '../providers/plivo.ts';
import { SandboxSmsNetwork } from '../providers/sandbox-sms.ts';
import { CLI_ACTOR, type Command, UsageError } from './command.ts';

/**
 * The SMS provider the relay sends through, built from the configuration only to ask whether its
 * account holds a number: construction does no I/O, and nothing is sent or called back.
 */
function ownershipCheck(config: Config, db: Database): NumberOwnershipCheck {
  if (config.smsProvider === 'plivo' && config.plivo !== null)
    return new PlivoProvider({ ...config.plivo, timeoutMs: config.outbox.providerTimeoutMs });
  // The sandbox network owns every number; its webhook token plays no part in saying so.
  return new SandboxSmsNetwork(db, 'not-used-for-ownership', config.publicUrl, () => undefined);
}

/** `number add`: registers a sender number, as POST /v1/numbers does, after the same check with the provider. */
export const NUMBER_COMMANDS: Record<string, Command> = {
  'number add': {
    summary:
      'Register a sender number for an organisation (once the SMS provider confirms the account holds it)',
    usage:
      'number add --org <orgId> --number <+15551234567|202-555-0143> [--type long_code|toll_free|short_code] [--label <text>] [--json]',
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      number: {
        help: "the number: with its country code (+1 202 555 0143) or national in the org's default country",
        value: true,
      },
      e164: { help: 'the number, under its former name (any form --number takes)', value: true },
      type: {
        help: 'long_code, toll_free or short_code (default: what the SMS provider reports, else long_code)',
        value: true,
      },
      label: { help: 'a label shown to reps', value: true },
    },
    async run(db, flags, io) {
      const type = flags.type;
      if (type !== undefined && type !== 'long_code' && type !== 'toll_free' && type !== 'short_code') {
        throw new UsageError(`--type must be long_code, toll_free or short_code, got "${type}"`);
      }
      const number = flags.number ?? flags.e164;
      if (number === undefined) throw new UsageError('--number is required');
      const added = await registerSenderNumber(
        db,
        ownershipCheck(io.config, db),
        {
          orgId: flags.org ?? '',
          number,
          ...(type === undefined ? {} : { numberType: type }),
          label: flags.label ?? null,
        },
        { actor: CLI_ACTOR, at: systemClock() },
        // The relay's operator is trusted to assign a number the account holds to any organisation.
        { assignedBy: 'operator' },
      );
      return {
        json: { numberId: added.id, e164: added.e164, numberType: added.numberType },
        text: `Added sender number ${added.e164} (${added.numberType})`,
      };
    },
  },
};
