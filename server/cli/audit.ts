import { auditedOrgs, type OrgVerdict, verifyOrgChain } from '../audit/audit-verify.ts';
import { ApiError } from '../errors.ts';
import { type Command, UsageError } from './command.ts';

/** `audit …` commands: check the hash-chained audit log. */
export const AUDIT_COMMANDS: Record<string, Command> = {
  'audit verify': {
    summary: "Check each organisation's audit chain; exit code 1 names the first bad entry",
    usage: [
      'audit verify [--org <orgId>] [--json]',
      '',
      'Walks every entry from the first, recomputing its hash and its link to the entry before, and',
      'compares the last with the chain head recorded apart. An edited, deleted, reordered or inserted',
      'entry is reported with its sequence number. Keep the printed head hash somewhere else too: a',
      'chain re-hashed end to end by someone who also rewrote the head only shows against an old copy.',
    ].join('\n'),
    flags: { org: { help: 'only this organisation (default: every one with an audit log)', value: true } },
    async run(db, flags) {
      if (
        flags.org !== undefined &&
        !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(flags.org)
      )
        throw new UsageError(`--org must be an organisation id (a UUID), got "${flags.org}"`);
      const orgs = await auditedOrgs(db, flags.org);
      const verdicts: OrgVerdict[] = [];
      for (const orgId of orgs) verdicts.push(await verifyOrgChain(db, orgId));
      const bad = verdicts.find((v) => v.broken !== null);
      if (bad?.broken != null) {
        throw new ApiError(409, 'AUDIT_CHAIN_BROKEN', `organisation ${bad.orgId}: ${bad.broken.message}`, {
          orgId: bad.orgId,
          seq: bad.broken.seq,
          problem: bad.broken.problem,
        });
      }
      const lines = verdicts.map(
        (v) => `OK ${v.orgId}: ${v.entries} entries, head ${v.headHash ?? '(none)'}`,
      );
      return {
        json: {
          ok: true,
          orgs: verdicts.map((v) => ({ orgId: v.orgId, entries: v.entries, headHash: v.headHash })),
        },
        text: lines.length === 0 ? 'OK: no audit entries yet' : lines.join('\n'),
      };
    },
  },
};
