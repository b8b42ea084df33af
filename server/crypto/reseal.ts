/**
 * Key rotation without downtime (issue #18, item 1). `keys rotate` gives each org a new active
 * data key; from then on new texts are sealed with it. Once every process has let go of the old
 * active key (its cache lives a minute, SETTLE_MS waits two), a background pass walks the org's
 * texts and live events in bounded batches, re-seals what an older key (or nothing) sealed, marks
 * the new key resealed and destroys the retired ones: their wrapped bytes are removed, so what
 * they sealed is gone with them, and nothing sealed with them is left.
 */
import type { Database } from '../db/database.ts';
import { PeriodicRunner } from '../lib/periodic-runner.ts';
import { messageContext, openBody } from '../stores/message-bodies.ts';
import {
  BATCH,
  olderThan,
  type Page,
  resealEvents,
  resealEvidence,
  resealOptInRequests,
  resealPayments,
  type Walk,
} from './reseal-walks.ts';
import { type KeyVault, vaultOf } from './vault.ts';

/** Longer than any process keeps an org's active key cached (vault.ts): nobody seals with the old one. */
export const SETTLE_MS = 120_000;

export interface ResealReport {
  orgId: string;
  keyNo: number;
  messages: number;
  events: number;
  /** Consent ledger entries whose evidence was re-sealed. */
  evidence: number;
  /** Pending double opt-ins' evidence and payment requests' details re-sealed. */
  details: number;
  destroyed: number[];
}

/**
 * New data keys for the given orgs (every org when none is named), the previous ones retired.
 * The texts follow in the background (resealDue).
 */
export async function rotateDataKeys(
  db: Database,
  orgIds: string[] | null,
): Promise<{ orgId: string; keyNo: number }[]> {
  const vault = vaultOf(db);
  const orgs =
    orgIds ??
    (await db.query<{ id: string }>('SELECT id::text AS id FROM orgs ORDER BY created_at, id')).map(
      (o) => o.id,
    );
  const rotated: { orgId: string; keyNo: number }[] = [];
  for (const orgId of orgs) {
    const keyNo = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`data_keys:${orgId}`]);
      return vault.createKey(tx, orgId);
    });
    vault.forgetActive(orgId);
    rotated.push({ orgId, keyNo });
  }
  return rotated;
}

/**
 * Every org whose active key is due (made at least `settleMs` ago and not yet resealed) has its
 * texts re-sealed; an org with no key yet (written before sealing) gets its first one here, and
 * its texts in clear are sealed on a later pass. `progress` hears each batch.
 */
export async function resealDue(
  db: Database,
  options: { settleMs?: number; progress?: (report: ResealReport) => void } = {},
): Promise<ResealReport[]> {
  const vault = vaultOf(db);
  const keyless = await db.query<{ id: string }>(
    `SELECT o.id::text AS id FROM orgs o
      WHERE NOT EXISTS (SELECT 1 FROM org_data_keys k WHERE k.org_id = o.id AND k.state = 'active')`,
  );
  for (const org of keyless) await db.transaction((tx) => vault.activeKey(tx, org.id));
  // The vault's clock, which dated the keys: key bookkeeping is judged by the clock that wrote it.
  const settled = new Date(vault.instant().getTime() - (options.settleMs ?? SETTLE_MS));
  const due = await db.query<{ org_id: string; key_no: number }>(
    `SELECT org_id::text AS org_id, key_no FROM org_data_keys
      WHERE state = 'active' AND resealed_at IS NULL AND created_at <= $1 ORDER BY created_at`,
    [settled],
  );
  const reports: ResealReport[] = [];
  for (const key of due) reports.push(await resealOrg(db, vault, key.org_id, key.key_no, options));
  return reports;
}

async function resealOrg(
  db: Database,
  vault: KeyVault,
  orgId: string,
  keyNo: number,
  options: { progress?: (report: ResealReport) => void },
): Promise<ResealReport> {
  const report: ResealReport = {
    orgId,
    keyNo,
    messages: 0,
    events: 0,
    evidence: 0,
    details: 0,
    destroyed: [],
  };
  const pages = async <C>(batch: Walk<C>, count: 'messages' | 'events' | 'evidence' | 'details') => {
    let after: C | null = null;
    for (;;) {
      const page: Page<C> = await db.transaction((tx) => batch(tx, vault, orgId, keyNo, after));
      report[count] += page.done;
      if (page.last === null) return;
      after = page.last;
      options.progress?.({ ...report });
    }
  };
  await pages(resealMessages, 'messages');
  await pages(resealEvents, 'events');
  await pages(resealEvidence, 'evidence');
  await pages(resealOptInRequests, 'details');
  await pages(resealPayments, 'details');
  report.destroyed = await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`data_keys:${orgId}`]);
    const marked = await tx.query(
      `UPDATE org_data_keys SET resealed_at = $3 WHERE org_id = $1 AND key_no = $2 AND state = 'active' RETURNING key_no`,
      [orgId, keyNo, vault.instant()],
    );
    // Rotated again meanwhile: the newer key's pass destroys what is left.
    if (marked.length === 0) return [];
    const gone = await tx.query<{ key_no: number }>(
      `UPDATE org_data_keys SET state = 'destroyed', wrapped = NULL
        WHERE org_id = $1 AND state = 'retired' AND key_no < $2 RETURNING key_no`,
      [orgId, keyNo],
    );
    return gone.map((k) => k.key_no).sort((a, b) => a - b);
  });
  options.progress?.({ ...report });
  return report;
}

/** One batch of the org's texts after `after` (by age): those not under `keyNo` re-sealed with it. */
const resealMessages: Walk<{ at: string; id: string }> = async (tx, vault, orgId, keyNo, after) => {
  // The position travels as text: a Date would drop the microseconds and read the same rows again.
  const rows = await tx.query<{ id: string; body: string; body_key: number | null; created_at: string }>(
    `SELECT id::text AS id, body, body_key, created_at::text AS created_at FROM messages
      WHERE org_id = $1 AND body_purged_at IS NULL
        AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
      ORDER BY created_at, id LIMIT ${BATCH} FOR UPDATE`,
    [orgId, after?.at ?? null, after?.id ?? null],
  );
  const stale = rows.filter((r) => r.body !== '' && olderThan(r.body_key, keyNo));
  const key = await vault.keyByNo(tx, orgId, keyNo);
  const ids: string[] = [];
  const bodies: string[] = [];
  for (const r of stale) {
    const text = await openBody(tx, orgId, r.id, r.body, r.body_key);
    ids.push(r.id);
    bodies.push(vault.sealWith(key, messageContext(r.id), text));
  }
  if (ids.length > 0)
    await tx.query(
      `UPDATE messages m SET body = v.body, body_key = $3
         FROM unnest($1::uuid[], $2::text[]) AS v(id, body) WHERE m.id = v.id`,
      [ids, bodies, keyNo],
    );
  const last = rows.at(-1);
  return { done: ids.length, last: last === undefined ? null : { at: last.created_at, id: last.id } };
};

/** The relay's re-seal pass, once a minute (and at start): keys rotated elsewhere are followed here. */
export class ResealWorker {
  private readonly runner: PeriodicRunner;

  constructor(
    private readonly options: {
      db: Database;
      log: (level: 'info' | 'warn' | 'error', message: string) => void;
    },
  ) {
    this.runner = new PeriodicRunner(
      () => this.pass(),
      60_000,
      (error) => options.log('error', `re-sealing texts under new data keys failed: ${String(error)}`),
    );
  }

  start(): void {
    this.runner.start(true);
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private async pass(): Promise<void> {
    for (const r of await resealDue(this.options.db))
      this.options.log(
        'info',
        `org ${r.orgId}: ${r.messages} texts, ${r.events} events, ${r.evidence} consent entries and ${r.details} opt-in requests and payment details re-sealed under data key ${r.keyNo}` +
          (r.destroyed.length > 0 ? `; keys ${r.destroyed.join(', ')} destroyed` : ''),
      );
  }
}
