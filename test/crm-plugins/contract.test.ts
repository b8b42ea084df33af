import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrmError, CrmNotFoundError } from '../../crm-plugins/errors.ts';
import type { ContactRef, CrmMessage, FollowUpTask } from '../../crm-plugins/types.ts';
import { CRM_IMPLEMENTATIONS, type Harness, isolateSalesforceHome } from './harnesses.ts';

const IMPLEMENTATIONS = CRM_IMPLEMENTATIONS;

let restoreHome: () => void = () => {};
beforeAll(() => {
  restoreHome = isolateSalesforceHome();
});
afterAll(() => restoreHome());

describe.each(IMPLEMENTATIONS)('CrmPlugin contract: %s', (_name, start) => {
  let h: Harness;
  let dana: ContactRef;
  let marco: ContactRef;
  let otherCountry: ContactRef;
  let lead: ContactRef | null = null;
  let seq = 0;
  const message = (contact: ContactRef, overrides: Partial<CrmMessage> = {}): CrmMessage => {
    seq += 1;
    return {
      externalKey: `msg_${h.crm}_${seq}`,
      contact,
      direction: seq % 2 === 0 ? 'inbound' : 'outbound',
      body: `Hello #${seq}, it's "quoted" & 'apostrophed'`,
      occurredAt: new Date(Date.UTC(2025, 0, 2, 15, 0, seq)),
      customerPhone: '+14155550123',
      ...overrides,
    };
  };

  beforeAll(async () => {
    h = await start();
    dana = h.seed({
      objectType: 'contact',
      first: 'Dana',
      last: 'Whitfield',
      phone: '(415) 555-0123',
      mobile: '+1 415-555-0124',
    });
    marco = h.seed({ objectType: 'contact', first: 'Marco', last: "O'Neil", phone: '312.555.0178' });
    // Same last ten digits as Dana's phone, but a UK number: must not match.
    otherCountry = h.seed({ objectType: 'contact', first: 'Uma', last: 'UK', phone: '+44 4155 550123' });
    if (h.supportsLeads)
      lead = h.seed({ objectType: 'lead', first: 'Sam', last: 'Okafor', mobile: '303-555-0161' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses to write consent before install, with a typed not_installed error', async () => {
    const attempt = h.plugin.projectConsent(dana, {
      status: 'opted_in',
      updatedAt: new Date(),
      source: 'web_form',
    });
    await expect(attempt).rejects.toBeInstanceOf(CrmError);
    await expect(attempt).rejects.toMatchObject({ code: 'not_installed' });
    expect((await h.plugin.healthCheck()).ok).toBe(false);
  });

  it('plans the install (dry run) without changing anything', async () => {
    h.resetCalls();
    const plan = await h.plugin.planInstall();
    expect(plan.crm).toBe(h.crm);
    expect(plan.steps.length).toBeGreaterThan(0);
    expect(plan.steps.every((s) => s.action === 'create')).toBe(true);
    expect(h.writeCalls()).toBe(0);
  });

  it('installs step by step (each narrowed plan creates its own step only), and re-running install changes nothing', async () => {
    const plan = await h.plugin.planInstall();
    // The admin console installs one step at a time, in the plan's order, to show each.
    for (const step of plan.steps) {
      const one = await h.plugin.install({ ...plan, steps: [step] });
      expect({ target: step.target, ...one }).toEqual({
        target: step.target,
        created: [step.target],
        alreadyPresent: [],
      });
    }
    expect((await h.plugin.planInstall()).steps.every((s) => s.action === 'exists')).toBe(true);

    const schemaAfterFirst = await h.schema();
    h.resetCalls();
    const second = await h.plugin.install();
    expect(second.created).toEqual([]);
    expect(second.alreadyPresent.length).toBe(plan.steps.length);
    expect(h.writeCalls()).toBe(0);
    // A stale plan (made before the first install) is safe too: "already exists" is success.
    const stale = await h.plugin.install(plan);
    expect(stale.created).toEqual([]);
    expect(await h.schema()).toEqual(schemaAfterFirst);
    expect(await h.plugin.healthCheck()).toMatchObject({ ok: true });
  });

  it('finds a contact by id, with E.164 phones mobile first', async () => {
    const contact = await h.plugin.findContactById(dana);
    expect(contact).toMatchObject({
      ref: dana,
      name: 'Dana Whitfield',
      phones: ['+14155550124', '+14155550123'],
    });
    expect(
      await h.plugin.findContactById({ ...dana, id: dana.id.replace(/.$/, (c) => (c === '9' ? '8' : '9')) }),
    ).toBeNull();
    expect(
      await h.plugin.findContactById({ ...dana, crm: h.crm === 'hubspot' ? 'salesforce' : 'hubspot' }),
    ).toBeNull();
  });

  it.each([
    ['the phone field typed with punctuation', '+14155550123', 'dana'],
    ['the mobile field typed international-style', '+14155550124', 'dana'],
    ['a number typed with dots', '+13125550178', 'marco'],
    ['an apostrophe in the name (escaping)', '+13125550178', 'marco'],
  ])('finds contacts by phone: %s', async (_label, phone, who) => {
    const found = await h.plugin.findContactsByPhone(phone);
    expect(found.map((c) => c.ref)).toEqual([who === 'dana' ? dana : marco]);
  });

  it('finds leads by phone where the CRM has leads', async () => {
    if (lead === null) return;
    const found = await h.plugin.findContactsByPhone('+13035550161');
    expect(found.map((c) => c.ref)).toEqual([lead]);
  });

  it('does not match a number that only shares digits, nor junk input', async () => {
    const uk = await h.plugin.findContactsByPhone('+444155550123');
    expect(uk.map((c) => c.ref)).toEqual([otherCountry]);
    expect(await h.plugin.findContactsByPhone('+19995550000')).toEqual([]);
    expect(await h.plugin.findContactsByPhone("' OR Name != '")).toEqual([]);
  });

  it('projects consent so it is visible on the record', async () => {
    const updatedAt = new Date('2025-01-02T10:00:00.000Z');
    await h.plugin.projectConsent(dana, { status: 'opted_out', updatedAt, source: 'keyword' });
    expect(h.consent(dana)).toMatchObject({ status: 'opted_out', source: 'keyword', updatedAt });
    await h.plugin.projectConsent(dana, { status: 'opted_in', updatedAt, source: 'web_form' });
    expect(h.consent(dana).status).toBe('opted_in');
    if (lead !== null) {
      await h.plugin.projectConsent(lead, { status: 'pending', updatedAt, source: 'verbal' });
      expect(h.consent(lead).status).toBe('pending');
    }
  });

  it('rejects consent for a record that does not exist with CrmNotFoundError', async () => {
    const ghost = { ...marco, id: marco.id.replace(/.$/, (c) => (c === '9' ? '8' : '9')) };
    await expect(
      h.plugin.projectConsent(ghost, { status: 'opted_in', updatedAt: new Date(), source: 'web_form' }),
    ).rejects.toBeInstanceOf(CrmNotFoundError);
  });

  it('logs messages once; a retried batch creates no second entry', async () => {
    const batch = [message(dana), message(dana), message(marco)];
    const first = await h.plugin.appendMessages(batch);
    expect(first.created.sort()).toEqual(batch.map((m) => m.externalKey).sort());
    expect(first.failed).toEqual([]);

    const retry = await h.plugin.appendMessages(batch);
    expect(retry.created).toEqual([]);
    expect(retry.alreadyLogged.sort()).toEqual(batch.map((m) => m.externalKey).sort());
    expect(h.timelineKeys(dana).sort()).toEqual([batch[0]?.externalKey, batch[1]?.externalKey].sort());
    expect(h.timelineKeys(marco)).toEqual([batch[2]?.externalKey]);
    expect(h.consent(dana).lastSmsAt).toEqual(batch[1]?.occurredAt);
  });

  it('writes a later delivery status onto the logged entry, creating nothing new', async () => {
    const sent = message(dana, { direction: 'outbound', status: 'sent' });
    const failed = message(dana, { direction: 'outbound', status: 'failed' });
    expect((await h.plugin.appendMessages([sent, failed])).created).toHaveLength(2);
    const before = h.timelineKeys(dana).length;
    expect(h.timelineText(dana).some((t) => t.includes('(sent)'))).toBe(true);
    expect(h.timelineText(dana).some((t) => t.includes('failed'))).toBe(true);

    h.resetCalls();
    const result = await h.plugin.updateMessages([{ ...sent, status: 'delivered' }]);
    expect(result.updated).toEqual([sent.externalKey]);
    expect(result.failed).toEqual([]);
    expect(h.timelineKeys(dana)).toHaveLength(before);
    expect(h.timelineText(dana).some((t) => t.includes('(delivered)'))).toBe(true);
    expect(h.timelineText(dana).some((t) => t.includes('(sent)'))).toBe(false);
    expect(h.writeCalls()).toBeLessThanOrEqual(1);
  });

  it('recovers from a partial failure: the retry fills the gap without duplicates', async () => {
    const batch = [message(marco), message(marco), message(marco)];
    const failing = batch[1]?.externalKey as string;
    h.failNextAppendFor([failing]);
    const first = await h.plugin.appendMessages(batch);
    expect(first.failed.map((f) => f.externalKey)).toEqual([failing]);
    expect(first.failed[0]?.retryable).toBe(true);
    expect(first.created.sort()).toEqual([batch[0]?.externalKey, batch[2]?.externalKey].sort());

    const retry = await h.plugin.appendMessages(batch);
    expect(retry.created).toEqual([failing]);
    expect(retry.alreadyLogged.length).toBe(2);
    const keys = h.timelineKeys(marco);
    for (const m of batch) expect(keys.filter((k) => k === m.externalKey)).toHaveLength(1);
  });

  it('rejects messages addressed to another CRM without touching the batch', async () => {
    const foreign = message({ ...dana, crm: h.crm === 'sandbox' ? 'hubspot' : 'sandbox' });
    const ok = message(dana);
    const result = await h.plugin.appendMessages([foreign, ok]);
    expect(result.failed).toMatchObject([{ externalKey: foreign.externalKey, retryable: false }]);
    expect(result.created).toEqual([ok.externalKey]);
  });

  it('reads a CRM-side opt-out since the watermark, and not the relay’s own writes', async () => {
    const start = await h.plugin.readConsentChanges(null);
    // The relay projected Dana and the lead; nothing was changed in the CRM yet.
    expect(start.changes).toEqual([]);
    expect(start.watermark).not.toBeNull();

    h.setConsentInCrm(marco, 'opted_out');
    const next = await h.plugin.readConsentChanges(start.watermark);
    expect(next.changes).toMatchObject([{ ref: marco, status: 'opted_out', previouslyProjected: null }]);
    expect(next.changes[0]?.changedAt).toBeInstanceOf(Date);

    const after = await h.plugin.readConsentChanges(next.watermark);
    expect(after.changes).toEqual([]);

    // A CRM user overriding the relay's status is reported with what the relay had written.
    h.setConsentInCrm(dana, 'opted_out');
    const override = await h.plugin.readConsentChanges(after.watermark);
    expect(override.changes).toMatchObject([
      { ref: dana, status: 'opted_out', previouslyProjected: 'opted_in' },
    ]);

    // Once the relay projects the same status back, the record no longer counts as a CRM change.
    await h.plugin.projectConsent(dana, { status: 'opted_out', updatedAt: new Date(), source: 'crm' });
    expect((await h.plugin.readConsentChanges(override.watermark)).changes).toEqual([]);
  });

  const ghostOf = (ref: ContactRef): ContactRef => ({
    ...ref,
    id: ref.id.replace(/.$/, (c) => (c === '9' ? '8' : '9')),
  });
  const followUp = (overrides: Partial<FollowUpTask> = {}): FollowUpTask => ({
    kind: 'call',
    subject: 'Call back Dana Whitfield — escalated from SMS',
    body: `Asked about "the invoice" & 'the refund'; prefers a call.\n\nEscalated by rep@example.com`,
    ...overrides,
  });

  it('logs a call-back task and an email task on the record, open and due when asked', async () => {
    const dueAt = new Date('2025-01-03T15:30:00.000Z');
    const call = await h.plugin.createFollowUpTask(dana, followUp({ dueAt }));
    const email = await h.plugin.createFollowUpTask(
      dana,
      followUp({
        kind: 'email',
        subject: 'Email Dana Whitfield — escalated from SMS',
        body: 'Send the form.',
        dueAt,
      }),
    );
    expect(call.id).not.toBe(email.id);
    expect(h.followUps(dana)).toEqual(
      expect.arrayContaining([
        {
          id: call.id,
          kind: 'call',
          subject: 'Call back Dana Whitfield — escalated from SMS',
          body: followUp().body,
          open: true,
          due: '2025-01-03',
          assignee: null,
        },
        {
          id: email.id,
          kind: 'email',
          subject: 'Email Dana Whitfield — escalated from SMS',
          body: 'Send the form.',
          open: true,
          due: '2025-01-03',
          assignee: null,
        },
      ]),
    );
    expect(h.followUps(dana)).toHaveLength(2);
    expect(h.followUps(marco)).toEqual([]);
  });

  it('logs a follow-up on a lead where the CRM has leads', async () => {
    if (lead === null) return;
    const task = await h.plugin.createFollowUpTask(
      lead,
      followUp({ kind: 'email', subject: 'Email Sam Okafor' }),
    );
    expect(h.followUps(lead)).toMatchObject([{ id: task.id, kind: 'email', subject: 'Email Sam Okafor' }]);
  });

  it('assigns the task to the CRM user with that email, and leaves an unknown email to the CRM default', async () => {
    h.addCrmUser('Rita.Rep@example.com');
    const assigned = await h.plugin.createFollowUpTask(
      marco,
      followUp({ subject: 'Call back Marco', assigneeEmail: 'rita.rep@example.com' }),
    );
    const unknown = await h.plugin.createFollowUpTask(
      marco,
      followUp({ subject: 'Call back Marco again', assigneeEmail: 'nobody@example.com' }),
    );
    const byId = new Map(h.followUps(marco).map((t) => [t.id, t]));
    expect(byId.get(assigned.id)?.assignee?.toLowerCase()).toBe('rita.rep@example.com');
    expect(byId.get(unknown.id)?.assignee).toBeNull();
    // Without a due date the task is due now.
    expect(byId.get(assigned.id)?.due).toBe(new Date().toISOString().slice(0, 10));
  });

  it('refuses a follow-up for a record that does not exist, or of another CRM, with CrmNotFoundError', async () => {
    const before = h.followUpCount();
    await expect(h.plugin.createFollowUpTask(ghostOf(marco), followUp())).rejects.toBeInstanceOf(
      CrmNotFoundError,
    );
    await expect(
      h.plugin.createFollowUpTask({ ...dana, crm: h.crm === 'sandbox' ? 'hubspot' : 'sandbox' }, followUp()),
    ).rejects.toBeInstanceOf(CrmNotFoundError);
    expect(h.followUpCount()).toBe(before);
  });

  it('surfaces a vendor failure as a retryable CrmError; the retry logs the task once', async () => {
    const before = h.followUpCount();
    h.failNextFollowUp();
    const error = await h.plugin.createFollowUpTask(marco, followUp()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmError);
    expect(error).toMatchObject({ crm: h.crm, retryable: true });
    expect(h.followUpCount()).toBe(before);
    await h.plugin.createFollowUpTask(marco, followUp());
    expect(h.followUpCount()).toBe(before + 1);
  });

  it('reports health', async () => {
    expect(await h.plugin.healthCheck()).toMatchObject({ ok: true });
  });

  it('uninstalls what install created, and a second uninstall finds nothing', async () => {
    const plan = await h.plugin.planInstall();
    const removed = await h.plugin.uninstall();
    expect(removed.removed.length).toBeGreaterThan(0);
    expect((await h.plugin.planInstall()).steps.every((s) => s.action === 'create')).toBe(true);
    const again = await h.plugin.uninstall();
    expect(again.removed).toEqual([]);
    expect(plan.steps.length).toBeGreaterThan(0);
  });
});
