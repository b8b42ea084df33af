import type { SenderNumber, SenderNumberType } from '../../contract/numbers.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { rolePermissions } from '../auth/users.ts';
import { type Queryable, withinTransaction } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { type NumberOwnership, ProviderError, type SmsProvider } from '../providers/sms-provider.ts';
import { senderNumberOf, senderNumberRegistered } from '../stores/sender-number-queries.ts';
import { type Assignment, powerpackToProve } from './number-assignment.ts';
import { addSenderNumber, numberTaken, requireOrg } from './org-admin.ts';
import { orgPhone } from './org-phone.ts';

/**
 * An organisation's sender numbers as its admin adds and edits them (POST and PATCH /v1/numbers,
 * `npm run cli -- number add`). A number is registered only once the SMS provider the relay sends
 * through says its account holds it: on a shared relay nobody claims a number the business does
 * not rent, and a number another organisation registered stays theirs (409, never saying whose).
 * On a relay of several organisations an org admin also proves the number is theirs (their own
 * Powerpack holds it), else the operator assigns it (number-assignment.ts).
 */

/** Who makes a change, for the audit log; `at` comes from the relay's clock. */
export interface ChangedBy {
  actor: string;
  at: Date;
  ip?: string | null;
}

/** Only what registering asks of the provider. */
export type NumberOwnershipCheck = Pick<SmsProvider, 'name' | 'ownsNumber'>;

export const MAX_LABEL_LENGTH = 100;

/** A label as stored: trimmed, blank as none; line breaks and control characters refused. */
function cleanLabel(label: string | null | undefined): string | null {
  const trimmed = label?.trim() ?? '';
  if (trimmed === '') return null;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (trimmed.length > MAX_LABEL_LENGTH || /[\u0000-\u001f\u007f]/.test(trimmed))
    throw new ApiError(
      400,
      'INVALID_LABEL',
      `A label is at most ${MAX_LABEL_LENGTH} characters on one line.`,
      { field: 'label' },
    );
  return trimmed;
}

/** First replies go only to an active user of this organisation whose role may text back. */
async function assertAssignee(db: Queryable, orgId: string, userId: string): Promise<void> {
  const [user] = await db.query<{ role: string }>(
    `SELECT role FROM users WHERE id = $1 AND org_id = $2 AND status = 'active'`,
    [userId, orgId],
  );
  if (user === undefined)
    throw new ApiError(422, 'ASSIGNEE_NOT_FOUND', 'No active user with that id in your organisation.', {
      field: 'defaultAssigneeUserId',
    });
  const permissions = await rolePermissions(db, orgId, user.role);
  if (!permissions?.includes('messages.send'))
    throw new ApiError(
      422,
      'ASSIGNEE_CANNOT_TEXT',
      'That user’s role may not send texts, so they could not answer first replies.',
      { field: 'defaultAssigneeUserId', role: user.role },
    );
}

const providerLabel = (name: string): string => (name === 'plivo' ? 'Plivo' : name);

/** The provider's word on the number; a provider that cannot answer is 502 and nothing is stored. */
async function askProvider(
  sms: NumberOwnershipCheck,
  e164: string,
  powerpackUuid: string | null,
): Promise<NumberOwnership> {
  try {
    return await sms.ownsNumber(e164, { powerpackUuid });
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    throw new ApiError(
      502,
      'SMS_PROVIDER_UNAVAILABLE',
      `${providerLabel(sms.name)} could not confirm that your account holds ${e164}, so nothing was saved. Try again shortly; if it keeps failing, the relay's operator should check its ${providerLabel(sms.name)} connection.`,
      { provider: sms.name, providerError: error.code, retryable: error.retryable },
    );
  }
}

/** The number's kind: the one asked for, which must match what the provider knows, else the provider's. */
function numberTypeOf(
  e164: string,
  asked: SenderNumberType | undefined,
  provider: string,
  ownership: NumberOwnership & { owned: true },
): SenderNumberType {
  const known = ownership.numberType;
  if (asked !== undefined && known !== undefined && asked !== known)
    throw new ApiError(
      422,
      'NUMBER_TYPE_MISMATCH',
      `${providerLabel(provider)} lists ${e164} as ${known}, not ${asked}: send "type": "${known}" or leave it out.`,
      { field: 'type', providerType: known },
    );
  return asked ?? known ?? 'long_code';
}

/** Refuses a number the organisation's own Powerpack does not hold, whatever the account holds. */
function assertInPowerpack(e164: string, provider: string, ownership: NumberOwnership): void {
  if (ownership.inPowerpack === true) return;
  const name = providerLabel(provider);
  throw new ApiError(
    422,
    'NUMBER_NOT_IN_POWERPACK',
    provider === 'sandbox'
      ? `The sandbox network has no Powerpacks, so on a relay shared by several organisations it cannot prove ${e164} is your organisation's: the relay's operator assigns it (npm run cli -- number add).`
      : `${e164} is not in your organisation's ${name} Powerpack (the plivoPowerpackUuid setting): add it to that Powerpack's number pool in ${name} first, or ask the relay's operator to assign it (npm run cli -- number add).`,
    { provider, setting: 'plivoPowerpackUuid' },
  );
}

/** Refuses a number the provider's account does not hold or that cannot text. */
function assertTextable(
  e164: string,
  provider: string,
  ownership: NumberOwnership,
): asserts ownership is NumberOwnership & { owned: true } {
  const name = providerLabel(provider);
  if (!ownership.owned)
    throw new ApiError(
      422,
      'NUMBER_NOT_OWNED',
      `${e164} is not a number of the relay's ${name} account: rent it in ${name} (or port it in) first, then add it here.`,
      { provider, reason: ownership.reason },
    );
  if (ownership.smsEnabled === false)
    throw new ApiError(
      422,
      'NUMBER_NOT_SMS_ENABLED',
      `${name} has ${e164} on the account but it cannot send texts: enable SMS on it in ${name} first.`,
      { provider },
    );
}

/**
 * Registers a sender number for the organisation, audited as number.added. The number may be
 * typed nationally (read in the org's default country). Nothing is stored unless the provider
 * confirms its account holds the number and, for an org admin on a relay of several
 * organisations, that the organisation's own Powerpack holds it (`assignment` says who asks).
 */
export async function registerSenderNumber(
  db: Queryable,
  sms: NumberOwnershipCheck,
  input: {
    orgId: string;
    number: string;
    numberType?: SenderNumberType;
    label?: string | null;
    defaultAssigneeUserId?: string | null;
  },
  by: ChangedBy,
  assignment: Assignment,
): Promise<SenderNumber> {
  const { orgId } = input;
  await requireOrg(db, orgId);
  const e164 = await orgPhone(db, orgId, 'number', input.number);
  const label = cleanLabel(input.label);
  const assignee = input.defaultAssigneeUserId ?? null;
  if (assignee !== null) await assertAssignee(db, orgId, assignee);
  // Before anything about the number is looked up: a refusal here probes neither the account nor
  // which numbers other organisations registered.
  const powerpack = await powerpackToProve(db, orgId, assignment);
  // Refused before the provider is asked, or once the org proved the number is in its Powerpack;
  // the insert's unique key still settles a race.
  if (powerpack === null && (await senderNumberRegistered(db, e164))) throw numberTaken(e164);
  // Asked outside any transaction: no lock is held while the provider answers.
  const ownership = await askProvider(sms, e164, powerpack);
  if (powerpack !== null) {
    assertInPowerpack(e164, sms.name, ownership);
    if (await senderNumberRegistered(db, e164)) throw numberTaken(e164);
  }
  assertTextable(e164, sms.name, ownership);
  const numberType = numberTypeOf(e164, input.numberType, sms.name, ownership);
  return withinTransaction(db, async (tx) => {
    if (assignee !== null) await assertAssignee(tx, orgId, assignee);
    const { numberId } = await addSenderNumber(tx, {
      orgId,
      e164,
      numberType,
      label,
      defaultAssigneeUserId: assignee,
    });
    await appendAudit(tx, {
      orgId,
      actor: by.actor,
      action: 'number.added',
      target: { type: 'sender_number', id: numberId },
      after: { e164, numberType, label, defaultAssigneeUserId: assignee },
      detail: {
        provider: sms.name,
        assignedBy: assignment.assignedBy,
        ...(powerpack === null ? {} : { powerpackUuid: powerpack }),
      },
      at: by.at,
      ip: by.ip ?? null,
    });
    const added = await senderNumberOf(tx, orgId, numberId);
    if (added === null) throw new Error(`sender number ${numberId} vanished inside its transaction`);
    return added;
  });
}

/**
 * Changes a sender number's label and default assignee (a field left out keeps its value),
 * audited as number.updated when something changed. Another organisation's number is not found.
 */
export async function updateSenderNumber(
  db: Queryable,
  input: {
    orgId: string;
    id: string;
    label?: string | null;
    defaultAssigneeUserId?: string | null;
  },
  by: ChangedBy,
): Promise<SenderNumber> {
  const label = input.label === undefined ? undefined : cleanLabel(input.label);
  return withinTransaction(db, async (tx) => {
    const before = await senderNumberOf(tx, input.orgId, input.id, { forUpdate: true });
    if (before === null)
      throw new ApiError(
        404,
        'NUMBER_NOT_FOUND',
        'No sender number with that id in your organisation; GET /v1/numbers lists them.',
      );
    const after: SenderNumber = {
      ...before,
      label: label === undefined ? before.label : label,
      defaultAssigneeUserId:
        input.defaultAssigneeUserId === undefined
          ? before.defaultAssigneeUserId
          : input.defaultAssigneeUserId,
    };
    const assigneeChanged = after.defaultAssigneeUserId !== before.defaultAssigneeUserId;
    if (assigneeChanged && after.defaultAssigneeUserId !== null)
      await assertAssignee(tx, input.orgId, after.defaultAssigneeUserId);
    if (!assigneeChanged && after.label === before.label) return before;
    await tx.query(
      'UPDATE sender_numbers SET label = $3, default_assignee_user_id = $4 WHERE id = $1 AND org_id = $2',
      [input.id, input.orgId, after.label, after.defaultAssigneeUserId],
    );
    await appendAudit(tx, {
      orgId: input.orgId,
      actor: by.actor,
      action: 'number.updated',
      target: { type: 'sender_number', id: input.id },
      before: { label: before.label, defaultAssigneeUserId: before.defaultAssigneeUserId },
      after: { label: after.label, defaultAssigneeUserId: after.defaultAssigneeUserId },
      detail: { e164: before.e164 },
      at: by.at,
      ip: by.ip ?? null,
    });
    return after;
  });
}
