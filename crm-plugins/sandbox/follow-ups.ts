/** Follow-up tasks on sandbox records, assigned to a known sandbox user or left unassigned. */
import { CrmUnavailableError } from '../errors.ts';
import type { ContactRef, CreatedFollowUp, FollowUpTask } from '../types.ts';
import type { SandboxFollowUp, SandboxStore } from './store.ts';

/** Opens a task on the record, due now unless the task says when. */
export async function createSandboxFollowUp(
  store: SandboxStore,
  ref: ContactRef,
  task: FollowUpTask,
): Promise<CreatedFollowUp> {
  const record = store.requireRecord(ref);
  if (store.takeFollowUpFailure()) {
    throw new CrmUnavailableError('sandbox', 'sandbox refused this task (injected failure)', null, 503);
  }
  const assignee = task.assigneeEmail?.trim().toLowerCase() ?? '';
  const id = store.newTaskId();
  const created = store.now();
  const followUp: SandboxFollowUp = {
    id,
    kind: task.kind,
    subject: task.subject,
    body: task.body,
    dueAt: task.dueAt ?? created,
    assigneeEmail: store.users.has(assignee) ? assignee : null,
    status: 'not_started',
    createdAt: created,
  };
  record.followUps.push(followUp);
  return { id: followUp.id };
}

/** Copies of the record's tasks, oldest first. */
export function sandboxFollowUps(store: SandboxStore, ref: ContactRef): SandboxFollowUp[] {
  return (store.recordOf(ref)?.followUps ?? []).map((f) => ({ ...f }));
}
