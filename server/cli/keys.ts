import { appendAudit } from '../audit/audit-log.ts';
import { systemClock } from '../clock.ts';
import { type ResealReport, resealDue, rotateDataKeys, SETTLE_MS } from '../crypto/reseal.ts';
import { type RewrapCount, rewrapUnderMasterKey, underOlderKeys } from '../crypto/rewrap.ts';
import type { Database } from '../db/database.ts';
import { requireOrg } from '../organisations/org-admin.ts';
import { unassignedTexts } from '../stores/message-bodies.ts';
import { CLI_ACTOR, type Command, requireSecretsKey, UsageError } from './command.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface KeyStatus {
  orgId: string;
  orgName: string;
  activeKey: number | null;
  activeSince: string | null;
  resealedAt: string | null;
  retiredKeys: number[];
  destroyedKeys: number[];
}

async function keyStatus(db: Database, orgId: string | null): Promise<KeyStatus[]> {
  const rows = await db.query<{
    org_id: string;
    org_name: string;
    key_no: number | null;
    state: string | null;
    created_at: Date | null;
    resealed_at: Date | null;
  }>(
    `SELECT o.id::text AS org_id, o.name AS org_name, k.key_no, k.state, k.created_at, k.resealed_at
       FROM orgs o LEFT JOIN org_data_keys k ON k.org_id = o.id
      WHERE $1::uuid IS NULL OR o.id = $1::uuid
      ORDER BY o.created_at, o.id, k.key_no`,
    [orgId],
  );
  const byOrg = new Map<string, KeyStatus>();
  for (const r of rows) {
    const status = byOrg.get(r.org_id) ?? {
      orgId: r.org_id,
      orgName: r.org_name,
      activeKey: null,
      activeSince: null,
      resealedAt: null,
      retiredKeys: [],
      destroyedKeys: [],
    };
    byOrg.set(r.org_id, status);
    if (r.key_no === null) continue;
    if (r.state === 'active') {
      status.activeKey = r.key_no;
      status.activeSince = r.created_at?.toISOString() ?? null;
      status.resealedAt = r.resealed_at?.toISOString() ?? null;
    } else if (r.state === 'retired') status.retiredKeys.push(r.key_no);
    else status.destroyedKeys.push(r.key_no);
  }
  return [...byOrg.values()];
}

function statusLine(s: KeyStatus): string {
  if (s.activeKey === null) return `${s.orgId}  ${s.orgName}: no data key yet (made at its first text)`;
  const texts =
    s.resealedAt === null
      ? 're-sealing pending (the relay starts it within three minutes of the rotation)'
      : `every text sealed with it since ${s.resealedAt}`;
  const retired =
    s.retiredKeys.length === 0 ? '' : `; retired, still opening older texts: ${s.retiredKeys.join(', ')}`;
  const destroyed = s.destroyedKeys.length === 0 ? '' : `; destroyed: ${s.destroyedKeys.join(', ')}`;
  return `${s.orgId}  ${s.orgName}: data key ${s.activeKey} active since ${s.activeSince}, ${texts}${retired}${destroyed}`;
}

const progressLine = (r: ResealReport): string =>
  `org ${r.orgId}: ${r.messages} texts, ${r.events} live events, ${r.evidence} consent entries, ${r.details} opt-in requests and payment details re-sealed under key ${r.keyNo}` +
  (r.destroyed.length > 0 ? `; keys ${r.destroyed.join(', ')} destroyed` : '');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function orgFlag(flags: Record<string, string>): string | null {
  const org = flags.org ?? null;
  if (org !== null && !UUID.test(org))
    throw new UsageError(`--org must be an organisation id (a UUID), got "${org}"`);
  return org;
}

function olderLine(counts: RewrapCount[], said: string): string {
  const some = counts.filter((c) => c.count > 0);
  if (some.length === 0) return 'Nothing is sealed with an older master key.';
  return `${some.map((c) => `${c.count} ${c.what}`).join(', ')} ${said}.`;
}

/** `keys …`: the data keys that seal message texts at rest, their rotation and its progress. */
export const KEYS_COMMANDS: Record<string, Command> = {
  'keys status': {
    summary: "Show each organisation's data keys and whether its texts are re-sealed under the active one",
    usage: 'keys status [--org <orgId>] [--json]',
    flags: { org: { help: 'only this organisation (its id)', value: true } },
    async run(db, flags, io) {
      const org = orgFlag(flags);
      if (org !== null) await requireOrg(db, org);
      const keys = await keyStatus(db, org);
      const older = await underOlderKeys(db, await requireSecretsKey(db, io, 'keys'));
      return {
        json: { keys, sealedUnderOlderMasterKeys: older },
        text: [
          ...(keys.length === 0 ? ['No organisations yet.'] : keys.map(statusLine)),
          olderLine(
            older,
            'still sealed with an older master key (SECRETS_KEY_PREVIOUS opens it; `keys rotate` re-seals it)',
          ),
        ].join('\n'),
      };
    },
  },
  'unassigned list': {
    summary: 'Show texts that arrived for numbers no organisation owns (stored sealed), oldest first',
    usage: [
      'unassigned list [--limit <1-1000>] [--json]',
      '',
      'A text to a number no organisation has registered is kept, never dropped, sealed with the',
      'master key. This opens them for the operator: which number it was sent to, from whom, and what.',
    ].join('\n'),
    flags: { limit: { help: 'how many (100 unless given)', value: true } },
    async run(db, flags) {
      const limit = flags.limit === undefined ? 100 : Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new UsageError(`--limit must be a whole number from 1 to 1000, got "${flags.limit}"`);
      const texts = await unassignedTexts(db, limit);
      return {
        json: { texts },
        text:
          texts.length === 0
            ? 'No texts to unregistered numbers.'
            : texts
                .map((t) => `to ${t.to} from ${t.from} (${t.provider} ${t.providerMessageId}): ${t.body}`)
                .join('\n'),
      };
    },
  },
  'keys rotate': {
    summary: 'Give organisations new data keys; their texts are re-sealed in the background',
    usage: [
      'keys rotate [--org <orgId>] [--wait] [--json]',
      '',
      'Makes a new active data key for the organisation (every organisation without --org) and',
      'retires the old one, which keeps opening older texts. New texts are sealed with the new key',
      'at once. Two minutes later (when no relay can still hold the old key) the running relay',
      're-seals every stored text and live event under the new key in batches of 500 rows, then',
      'destroys the retired keys. Sending never stops. --wait does that here instead, with progress.',
      '',
      'A new master key: set it as SECRETS_KEY and the old one as SECRETS_KEY_PREVIOUS, restart, and',
      'run this. Every data key is re-wrapped, and every credential and second-factor secret',
      're-sealed, under SECRETS_KEY; then SECRETS_KEY_PREVIOUS can be removed.',
      'Recorded in the audit log (keys.rotated).',
    ].join('\n'),
    flags: {
      org: { help: 'only this organisation (its id)', value: true },
      wait: { help: 'wait out the two minutes and re-seal here, showing progress', value: false },
    },
    async run(db, flags, io) {
      const org = orgFlag(flags);
      if (org !== null) await requireOrg(db, org);
      const rotated = await rotateDataKeys(db, org === null ? null : [org]);
      for (const r of rotated)
        await appendAudit(db, {
          orgId: r.orgId,
          actor: CLI_ACTOR,
          action: 'keys.rotated',
          target: { type: 'data_key', id: String(r.keyNo) },
          at: systemClock(),
          after: { activeKey: r.keyNo },
        });
      const rewrapped = await rewrapUnderMasterKey(db, await requireSecretsKey(db, io, 'keys'));
      const lines = [
        ...rotated.map((r) => `org ${r.orgId}: data key ${r.keyNo} is active`),
        olderLine(rewrapped, 're-sealed under SECRETS_KEY; SECRETS_KEY_PREVIOUS can now be removed'),
      ];
      if (flags.wait !== 'true')
        return {
          json: { rotated, rewrapped },
          text: [
            ...lines,
            'The relay re-seals stored texts within three minutes; `keys status` shows when.',
          ].join('\n'),
        };
      for (let left = SETTLE_MS; left > 0; left -= 10_000) {
        io.err(`waiting ${Math.ceil(left / 1000)} s for every relay to let go of the old keys…`);
        await sleep(Math.min(left, 10_000));
      }
      const resealed = await resealDue(db, { progress: (r) => io.err(progressLine(r)) });
      return {
        json: { rotated, rewrapped, resealed },
        text: [...lines, ...resealed.map(progressLine)].join('\n'),
      };
    },
  },
};
