import { systemClock } from '../clock.ts';
import { requireOrg } from '../organisations/org-admin.ts';
import { orgPhone } from '../organisations/org-phone.ts';
import {
  type HoldTarget,
  type LegalHold,
  listHolds,
  placeHold,
  releaseHold,
} from '../retention/legal-holds.ts';
import { type RetentionReport, runRetention } from '../retention/purge.ts';
import { CLI_ACTOR, type Command, UsageError } from './command.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function orgFlag(flags: Record<string, string>): string {
  const org = flags.org ?? '';
  if (!UUID.test(org)) throw new UsageError(`--org must be an organisation id (a UUID), got "${org}"`);
  return org;
}

function holdLine(h: LegalHold): string {
  const target =
    h.target.type === 'phone' ? `phone ${h.target.phone}` : `conversation ${h.target.conversationId}`;
  const state = h.releasedAt === null ? 'active' : `released ${h.releasedAt} by ${h.releasedBy}`;
  return `${h.id}  ${target}  ${state}  placed ${h.createdAt} by ${h.createdBy}: ${h.reason}`;
}

function reportText(r: RetentionReport): string {
  const verb = r.dryRun ? 'would' : 'did';
  if (r.bodyCutoff === null && r.metadataCutoff === null)
    return `Organisation ${r.orgId} has no retention policy (retention.messageBodyDays / retention.metadataDays): everything is kept.`;
  return [
    `${r.dryRun ? 'Dry run: nothing changed. ' : ''}Retention of organisation ${r.orgId}:`,
    `  bodies older than ${r.bodyCutoff ?? '(kept)'}, messages older than ${r.metadataCutoff ?? '(kept)'}`,
    `  ${verb} purge ${r.bodiesPurged} message bodies`,
    `  ${verb} delete ${r.messagesDeleted} messages, ${r.statusEventsDeleted} status events, ${r.outboxJobsDeleted} outbox jobs, ${r.conversationsDeleted} empty conversations`,
    `  kept under legal hold: ${r.heldSkipped} messages; kept as consent evidence: ${r.consentEvidenceKept}`,
    ...(r.policy.purgeCrmCopy && !r.dryRun
      ? [`  CRM timeline entries queued for rewriting: ${r.crmUpdatesQueued}`]
      : []),
  ].join('\n');
}

/** `retention …` commands: run the org's retention policy, place and release legal holds. */
export const RETENTION_COMMANDS: Record<string, Command> = {
  'retention run': {
    summary: "Run an organisation's retention policy now (or --dry-run to see what it would remove)",
    usage: [
      'retention run --org <orgId> [--dry-run] [--json]',
      '',
      'Blanks message bodies older than retention.messageBodyDays and deletes messages (with their',
      'status history, outbox jobs and live events) older than retention.metadataDays, in batches of',
      '1,000 rows per transaction. Never touches consent records, the messages they cite, or anything',
      'under an active legal hold. A real run is recorded in the audit log (retention.run).',
    ].join('\n'),
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      'dry-run': { help: 'count what would be removed, change nothing', value: false },
    },
    async run(db, flags, io) {
      const report = await runRetention(db, {
        orgId: orgFlag(flags),
        now: systemClock(),
        dryRun: flags['dry-run'] === 'true',
        actor: CLI_ACTOR,
        progress: (line) => io.err(line),
      });
      return { json: { report }, text: reportText(report) };
    },
  },
  'retention hold': {
    summary: 'Place a legal hold on a contact phone or a conversation',
    usage: 'retention hold --org <orgId> (--phone <number> | --conversation <id>) --reason <text> [--json]',
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      phone: { help: "hold every conversation with this contact phone (org's default country)", value: true },
      conversation: { help: 'hold this conversation (its id)', value: true },
      reason: { help: 'why (1–500 characters); kept in the audit log', required: true, value: true },
    },
    async run(db, flags) {
      const orgId = orgFlag(flags);
      if ((flags.phone === undefined) === (flags.conversation === undefined))
        throw new UsageError('give exactly one of --phone and --conversation');
      await requireOrg(db, orgId);
      let target: HoldTarget;
      if (flags.phone !== undefined)
        target = { type: 'phone', phone: await orgPhone(db, orgId, 'phone', flags.phone) };
      else if (UUID.test(flags.conversation ?? ''))
        target = { type: 'conversation', conversationId: flags.conversation ?? '' };
      else
        throw new UsageError(
          `--conversation must be a conversation id (a UUID), got "${flags.conversation}"`,
        );
      const hold = await placeHold(db, {
        orgId,
        target,
        reason: flags.reason ?? '',
        actor: CLI_ACTOR,
        at: systemClock(),
      });
      return { json: { hold }, text: `Placed legal hold ${holdLine(hold)}` };
    },
  },
  'retention holds': {
    summary: "List an organisation's legal holds",
    usage: 'retention holds --org <orgId> [--active] [--json]',
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      active: { help: 'only holds not yet released', value: false },
    },
    async run(db, flags) {
      const orgId = orgFlag(flags);
      await requireOrg(db, orgId);
      const holds = await listHolds(db, orgId, flags.active === 'true');
      return {
        json: { holds },
        text: holds.length === 0 ? 'No legal holds.' : holds.map(holdLine).join('\n'),
      };
    },
  },
  'retention release': {
    summary: 'Release a legal hold (the next retention run may purge what it held)',
    usage: 'retention release --org <orgId> --hold <holdId> [--json]',
    flags: {
      org: { help: 'organisation id', required: true, value: true },
      hold: { help: 'the legal hold id', required: true, value: true },
    },
    async run(db, flags) {
      const orgId = orgFlag(flags);
      await requireOrg(db, orgId);
      const hold = await releaseHold(db, {
        orgId,
        holdId: flags.hold ?? '',
        actor: CLI_ACTOR,
        at: systemClock(),
      });
      return { json: { hold }, text: `Released legal hold ${holdLine(hold)}` };
    },
  },
};
