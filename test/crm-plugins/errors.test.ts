import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CrmAuthExpiredError,
  type CrmError,
  CrmRateLimitError,
  CrmRequestError,
  CrmUnavailableError,
} from '../../crm-plugins/errors.ts';
import { createHubSpotApi, TASK_TO_CONTACT } from '../../crm-plugins/hubspot/client.ts';
import { createHubSpotCrm } from '../../crm-plugins/hubspot/index.ts';
import { createSalesforceApi } from '../../crm-plugins/salesforce/client.ts';
import { createSalesforceCrm } from '../../crm-plugins/salesforce/index.ts';
import type { ContactRef, CrmMessage, FollowUpTask } from '../../crm-plugins/types.ts';
import { type HubSpotFake, startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { type SalesforceFake, startSalesforceFake } from '../fakes/salesforce-fake.ts';
import { isolateSalesforceHome } from './harnesses.ts';

const msg = (contact: ContactRef, key: string): CrmMessage => ({
  externalKey: key,
  contact,
  direction: 'outbound',
  body: 'hi',
  occurredAt: new Date('2025-03-01T12:00:00Z'),
  customerPhone: null,
});

const callBack: FollowUpTask = { kind: 'call', subject: 'Call back A B — escalated from SMS', body: 'note' };

describe('HubSpot errors reach the sync worker typed', () => {
  let fake: HubSpotFake;
  let ref: ContactRef;
  const plugin = () => createHubSpotCrm({ accessToken: fake.accessToken, basePath: fake.baseUrl });
  beforeAll(async () => {
    fake = await startHubSpotFake();
    await plugin().install();
    ref = { crm: 'hubspot', objectType: 'contact', id: fake.addContact({ firstname: 'A', lastname: 'B' }) };
  });
  afterAll(() => fake.close());

  it('surfaces a ten-secondly 429 as CrmRateLimitError with the interval as retry-after', async () => {
    fake.injectFaults([{ kind: 'rate_limit', policy: 'TEN_SECONDLY_ROLLING' }]);
    const error = await plugin()
      .appendMessages([msg(ref, 'k1')])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmRateLimitError);
    expect(error).toMatchObject({
      crm: 'hubspot',
      scope: 'burst',
      retryAfterMs: 10_000,
      retryable: true,
      httpStatus: 429,
    });
    // Nothing was half-written: the retry logs the message exactly once.
    expect((await plugin().appendMessages([msg(ref, 'k1')])).created).toEqual(['k1']);
  });

  it('prefers Retry-After when HubSpot sends one, and marks the daily quota as daily', async () => {
    fake.injectFaults([{ kind: 'rate_limit', policy: 'SECONDLY', retryAfterSeconds: 3 }]);
    await expect(plugin().findContactById(ref)).rejects.toMatchObject({ retryAfterMs: 3000, scope: 'burst' });
    fake.injectFaults([{ kind: 'rate_limit', policy: 'DAILY' }]);
    const daily = await plugin()
      .projectConsent(ref, { status: 'opted_in', updatedAt: new Date(), source: 'web_form' })
      .catch((e: unknown) => e);
    expect(daily).toBeInstanceOf(CrmRateLimitError);
    expect((daily as CrmRateLimitError).scope).toBe('daily');
    expect((daily as CrmRateLimitError).retryAfterMs).toBeGreaterThan(0);
  });

  it('surfaces an expired token as CrmAuthExpiredError, and works again once re-authenticated', async () => {
    fake.expireToken();
    const error = await plugin()
      .readConsentChanges(null)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmAuthExpiredError);
    expect(error).toMatchObject({
      code: 'auth_expired',
      retryable: false,
      vendorCode: 'EXPIRED_AUTHENTICATION',
    });
    expect(await plugin().healthCheck()).toMatchObject({ ok: false });
    fake.renewToken();
    expect(await plugin().healthCheck()).toMatchObject({ ok: true });
  });

  it('surfaces a 429 or an expired token on a follow-up task typed, and writes no task', async () => {
    const tasks = (path: string) => path === '/crm/v3/objects/tasks';
    fake.injectFaults(
      [{ kind: 'rate_limit', policy: 'TEN_SECONDLY_ROLLING' }],
      (m, p) => m === 'POST' && tasks(p),
    );
    await expect(plugin().createFollowUpTask(ref, callBack)).rejects.toMatchObject({
      name: 'CrmRateLimitError',
      scope: 'burst',
      retryAfterMs: 10_000,
    });
    fake.injectFaults([{ kind: 'expired_token' }], (m, p) => m === 'POST' && tasks(p));
    await expect(plugin().createFollowUpTask(ref, callBack)).rejects.toBeInstanceOf(CrmAuthExpiredError);
    expect(fake.tasks()).toEqual([]);
    expect((await plugin().createFollowUpTask(ref, callBack)).id).toBe(fake.tasks()[0]?.id);
  });

  it('refuses a task without its due date, or with a wrong association type, in HubSpot’s validation shape', async () => {
    const api = createHubSpotApi({ accessToken: fake.accessToken, basePath: fake.baseUrl });
    const before = fake.tasks().length;
    const missing = await api
      .createTask({ hs_task_subject: 'no due date', hs_task_type: 'CALL' }, ref.id)
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(CrmRequestError);
    expect(missing).toMatchObject({
      code: 'invalid_request',
      vendorCode: 'VALIDATION_ERROR',
      httpStatus: 400,
    });
    expect((missing as Error).message).toContain('hs_timestamp is required');
    const badType = await api
      .createTask({ hs_timestamp: '2025-01-01T00:00:00Z', hs_task_type: 'SMS' }, ref.id)
      .catch((e: unknown) => e);
    expect(badType).toMatchObject({ code: 'invalid_request', vendorCode: 'VALIDATION_ERROR' });
    expect(fake.tasks()).toHaveLength(before);
    expect(TASK_TO_CONTACT).toBe(204);
  });

  it('surfaces a 5xx as retryable CrmUnavailableError, never the SDK exception', async () => {
    fake.injectFaults([{ kind: 'server_error', status: 502 }]);
    const error = await plugin()
      .findContactsByPhone('+14155550123')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmUnavailableError);
    expect((error as CrmError).retryable).toBe(true);
  });
});

describe('Salesforce errors reach the sync worker typed', () => {
  let fake: SalesforceFake;
  let ref: ContactRef;
  let restoreHome: () => void;
  const plugin = () => createSalesforceCrm({ accessToken: fake.accessToken, instanceUrl: fake.instanceUrl });
  beforeAll(async () => {
    restoreHome = isolateSalesforceHome();
    fake = await startSalesforceFake();
    await plugin().install();
    ref = { crm: 'salesforce', objectType: 'contact', id: fake.addRecord('Contact', { LastName: 'B' }) };
  });
  afterAll(async () => {
    await fake.close();
    restoreHome();
  });

  it('surfaces REQUEST_LIMIT_EXCEEDED as CrmRateLimitError (daily quota vs. concurrency)', async () => {
    fake.injectFaults([{ kind: 'request_limit', daily: true }]);
    const daily = await plugin()
      .appendMessages([msg(ref, 'k1')])
      .catch((e: unknown) => e);
    expect(daily).toBeInstanceOf(CrmRateLimitError);
    expect(daily).toMatchObject({ crm: 'salesforce', scope: 'daily', vendorCode: 'REQUEST_LIMIT_EXCEEDED' });
    fake.injectFaults([{ kind: 'request_limit', daily: false }]);
    await expect(plugin().findContactById(ref)).rejects.toMatchObject({ scope: 'burst', retryAfterMs: 5000 });
    expect((await plugin().appendMessages([msg(ref, 'k1')])).created).toEqual(['k1']);
  });

  it('surfaces INVALID_SESSION_ID (401) as CrmAuthExpiredError', async () => {
    fake.expireSession();
    const error = await plugin()
      .projectConsent(ref, { status: 'opted_out', updatedAt: new Date(), source: 'keyword' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmAuthExpiredError);
    expect(error).toMatchObject({ vendorCode: 'INVALID_SESSION_ID', retryable: false });
    fake.renewSession();
    await plugin().projectConsent(ref, { status: 'opted_out', updatedAt: new Date(), source: 'keyword' });
    expect(fake.record('Contact', ref.id)?.SMS_Consent_Status__c).toBe('opted_out');
  });

  it('surfaces REQUEST_LIMIT_EXCEEDED or an expired session on a follow-up task typed, and writes no task', async () => {
    const followUps = () => fake.records('Task').filter((t) => t.TaskSubtype === 'Call');
    const before = followUps().length;
    fake.injectFaults([{ kind: 'request_limit', daily: false }], (m) => m === 'POST');
    await expect(plugin().createFollowUpTask(ref, callBack)).rejects.toMatchObject({
      name: 'CrmRateLimitError',
      scope: 'burst',
    });
    fake.expireSession();
    await expect(plugin().createFollowUpTask(ref, callBack)).rejects.toBeInstanceOf(CrmAuthExpiredError);
    fake.renewSession();
    expect(followUps()).toHaveLength(before);
    await plugin().createFollowUpTask(ref, callBack);
    expect(followUps()).toHaveLength(before + 1);
  });

  it('refuses a bad TaskSubtype, an over-long Subject and a TaskSubtype change in Salesforce’s error shape', async () => {
    const api = createSalesforceApi({ accessToken: fake.accessToken, instanceUrl: fake.instanceUrl });
    const before = fake.records('Task').length;
    await expect(api.create('Task', { WhoId: ref.id, TaskSubtype: 'SMS' })).rejects.toMatchObject({
      code: 'invalid_request',
      vendorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
    });
    await expect(api.create('Task', { WhoId: ref.id, Subject: 'x'.repeat(256) })).rejects.toMatchObject({
      vendorCode: 'STRING_TOO_LONG',
    });
    expect(fake.records('Task')).toHaveLength(before);
    const id = await api.create('Task', { WhoId: ref.id, TaskSubtype: 'Call' });
    // Defaulted on create, like the real org.
    expect(fake.record('Task', id)).toMatchObject({ Status: 'Not Started', Priority: 'Normal' });
    await expect(api.update('Task', id, { TaskSubtype: 'Email' })).rejects.toMatchObject({
      vendorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
    });
  });

  it('surfaces a 503 on a write as retryable CrmUnavailableError', async () => {
    fake.injectFaults([{ kind: 'server_error', status: 503 }], (method) => method === 'PATCH');
    const error = await plugin()
      .projectConsent(ref, { status: 'opted_in', updatedAt: new Date(), source: 'web_form' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmUnavailableError);
  });
});
