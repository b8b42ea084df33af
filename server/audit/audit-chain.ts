import { createHash } from 'node:crypto';

// The hash chain of the audit log (issue #18): pure functions, no I/O, shared by the append and verify.

/** The fields of one audit entry that its hash covers, as stored. */
export interface ChainedFields {
  orgId: string;
  seq: number;
  actor: string;
  actorName: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  occurredAt: Date;
  before: unknown;
  after: unknown;
  detail: unknown;
  ip: string | null;
}

/** The first "previous hash" of an org's chain: fixed per org, so one org's entries cannot be moved to another. */
export function genesisHash(orgId: string): string {
  return sha256(`audit-genesis:${orgId}`);
}

/** SHA-256 over the canonical serialisation of the entry and the previous entry's hash. */
export function entryHash(fields: ChainedFields, prevHash: string): string {
  return sha256(canonicalEntry(fields, prevHash));
}

/**
 * A fixed-order JSON array, object keys sorted at every depth: jsonb reorders keys and drops
 * duplicate ones, so the stored value and the appended one must serialise alike.
 */
export function canonicalEntry(f: ChainedFields, prevHash: string): string {
  return canonicalJson([
    'audit-v1',
    f.orgId,
    f.seq,
    f.actor,
    f.actorName,
    f.action,
    f.targetType,
    f.targetId,
    f.occurredAt.toISOString(),
    f.before ?? null,
    f.after ?? null,
    f.detail ?? {},
    f.ip,
    prevHash,
  ]);
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A stored entry as verify reads it: its fields plus the hashes stored beside them. */
export interface StoredEntry extends ChainedFields {
  prevHash: string;
  hash: string;
}

/** What verify found wrong with the first bad entry; `seq` is the sequence number it concerns. */
export interface ChainBreak {
  seq: number;
  problem: 'missing' | 'duplicate' | 'out_of_order' | 'edited' | 'beyond_head' | 'head_mismatch';
  message: string;
}

/** Checks one org's entries one at a time, in sequence order, without holding them all. */
export interface ChainWalker {
  /** The break this entry shows, or null when it follows the entries before it. */
  next(e: StoredEntry): ChainBreak | null;
  /** After the last entry: whether the chain ends where its separately recorded head says. */
  finish(): ChainBreak | null;
}

export function chainWalker(orgId: string, head: { lastSeq: number; lastHash: string } | null): ChainWalker {
  let expected = 1;
  let prev = genesisHash(orgId);
  return {
    next(e) {
      if (e.seq > expected)
        return { seq: expected, problem: 'missing', message: `entry ${expected} is missing (deleted)` };
      if (e.seq < expected)
        return { seq: e.seq, problem: 'duplicate', message: `entry ${e.seq} appears twice (inserted)` };
      if (head !== null && e.seq > head.lastSeq)
        return {
          seq: e.seq,
          problem: 'beyond_head',
          message: `entry ${e.seq} lies past the recorded chain head ${head.lastSeq} (inserted)`,
        };
      if (e.prevHash !== prev)
        return {
          seq: e.seq,
          problem: 'out_of_order',
          message: `entry ${e.seq} does not follow entry ${e.seq - 1} (reordered or inserted)`,
        };
      if (entryHash(e, e.prevHash) !== e.hash)
        return { seq: e.seq, problem: 'edited', message: `entry ${e.seq} does not match its hash (edited)` };
      prev = e.hash;
      expected += 1;
      return null;
    },
    finish() {
      const lastSeq = expected - 1;
      const headSeq = head?.lastSeq ?? 0;
      if (headSeq > lastSeq)
        return {
          seq: lastSeq + 1,
          problem: 'missing',
          message: `entry ${lastSeq + 1} is missing: the chain head records ${headSeq} entries (deleted at the end)`,
        };
      if (lastSeq > 0 && (head === null || head.lastHash !== prev))
        return {
          seq: lastSeq,
          problem: 'head_mismatch',
          message:
            head === null
              ? `the chain head is missing, though entries 1 to ${lastSeq} exist`
              : `entry ${lastSeq} is not the entry the chain head recorded (replaced)`,
        };
      return null;
    },
  };
}

/** The first break of a whole chain held in memory, or null when it is intact. */
export function findChainBreak(
  orgId: string,
  entries: Iterable<StoredEntry>,
  head: { lastSeq: number; lastHash: string } | null,
): ChainBreak | null {
  const walker = chainWalker(orgId, head);
  for (const e of entries) {
    const broken = walker.next(e);
    if (broken !== null) return broken;
  }
  return walker.finish();
}
