import type { PanelDb } from './panel-db.ts';

/** Drafts untouched this long are dropped: they hold what the rep typed about a contact. */
export const DRAFT_MAX_IDLE_MS = 30 * 24 * 60 * 60 * 1000;

/** The rep's unsent text for a contact, or '' when there is none. */
export async function loadDraft(db: PanelDb, scope: string, contactKey: string): Promise<string> {
  const draft = await db.drafts.get([scope, contactKey]);
  return draft?.body ?? '';
}

/** Keeps the rep's text across page loads; an empty (or whitespace-only) body deletes the draft. */
export async function saveDraft(
  db: PanelDb,
  scope: string,
  contactKey: string,
  body: string,
  now: number = Date.now(),
): Promise<void> {
  if (body.trim() === '') {
    await db.drafts.delete([scope, contactKey]);
    return;
  }
  await db.drafts.put({ scope, contactKey, body, updatedAt: now });
}

/** Drops drafts not edited for `DRAFT_MAX_IDLE_MS`; returns how many. */
export async function pruneDrafts(db: PanelDb, now: number = Date.now()): Promise<number> {
  return db.drafts
    .where('updatedAt')
    .below(now - DRAFT_MAX_IDLE_MS)
    .delete();
}
