// @vitest-environment node
import { describe, expect, it, vi } from 'vitest';
import { badgeStatus, evidenceText } from '../../extension/components/ConsentBadge.tsx';
import { InboundNotifier } from '../../extension/lib/background/inbound-notifier.ts';
import { formatInZone } from '../../extension/lib/format.ts';
import {
  type ContactLookup,
  type Message,
  parseContactLookup,
  parseMe,
  parseMessage,
  parseMessageEvent,
  parsePreflight,
  sensitiveFindings,
} from '../../extension/lib/relay-types.ts';
import { effectiveNotificationPreference, resolveRelayUrl } from '../../extension/lib/settings.ts';
import { applyTemplate, mergeValues } from '../../extension/lib/templates.ts';
import { messageFixture } from './fixtures.ts';

const consent = (patch: Partial<ContactLookup['consent']> = {}): ContactLookup['consent'] => ({
  status: 'unknown',
  updatedAt: null,
  source: null,
  evidence: null,
  pendingOptIn: null,
  review: null,
  ...patch,
});

describe('templates', () => {
  const values = mergeValues(
    { name: '  Ada  King Lovelace ' },
    { displayName: 'Sam Rep', orgName: 'Acme Dental' },
  );

  it('fills merge fields from the contact and the rep', () => {
    expect(values).toEqual({
      firstName: 'Ada',
      lastName: 'Lovelace',
      name: 'Ada  King Lovelace',
      repName: 'Sam Rep',
      orgName: 'Acme Dental',
    });
    expect(applyTemplate('Hi {{firstName}}, {{ repName }} from {{orgName}} here.', values)).toEqual({
      text: 'Hi Ada, Sam Rep from Acme Dental here.',
      missing: [],
    });
  });

  it('leaves fields without a value visible and lists them', () => {
    const single = mergeValues({ name: 'Cher' }, null);
    expect(applyTemplate('Dear {{firstName}} {{lastName}}, {{repName}} {{unknownField}}', single)).toEqual({
      text: 'Dear Cher {{lastName}}, {{repName}} {{unknownField}}',
      missing: ['lastName', 'repName', 'unknownField'],
    });
  });
});

describe('preflight answers', () => {
  const base = {
    allowed: false,
    finalText: 'Card 4111 1111 1111 1111',
    segments: 1,
    encoding: 'GSM-7',
    recipientLocalTime: { zone: 'America/Chicago', zoneSource: 'area_code', localTime: '2026-11-22T22:10' },
    nextAllowedAt: null,
    schedulable: false,
  };

  it('reads refusals, the final text and the local time (either source field name)', () => {
    const p = parsePreflight({
      ...base,
      refusals: [{ code: 'QUIET_HOURS', message: 'Too late', details: {} }],
      nextAllowedAt: '2026-11-23T14:00:00.000Z',
      schedulable: true,
    });
    expect(p.recipientLocalTime).toEqual({
      zone: 'America/Chicago',
      source: 'area_code',
      localTime: '2026-11-22T22:10',
    });
    expect(p.schedulable).toBe(true);
    expect(p.refusals[0]?.code).toBe('QUIET_HOURS');
  });

  it('clips the sensitive spans to the draft and ignores malformed findings', () => {
    const p = parsePreflight({
      ...base,
      refusals: [
        {
          code: 'SENSITIVE_CONTENT',
          message: 'card',
          details: {
            findings: [
              { kind: 'card', start: 5, end: 24 },
              { kind: 'ssn', start: 'x', end: 3 },
              { kind: 'bank', start: 30, end: 40 },
            ],
          },
        },
      ],
    });
    expect(sensitiveFindings(p, 24)).toEqual([{ kind: 'card', start: 5, end: 24 }]);
    expect(sensitiveFindings(p, 10)).toEqual([{ kind: 'card', start: 5, end: 10 }]);
  });

  it('refuses a malformed answer instead of guessing', () => {
    expect(() => parsePreflight({ ...base, refusals: 'none' })).toThrow(/refusals/);
  });
});

describe('relay shapes added for the panel', () => {
  it('defaults /v1/me fields an older relay does not send', () => {
    const me = parseMe({ orgId: 'o', orgName: 'Acme', role: 'rep', permissions: ['pii.view'] });
    expect(me).toMatchObject({
      userId: null,
      seesPii: true,
      extension: { templates: [], locked: { notifications: null } },
    });
  });

  it('reads templates and locked settings, and rejects an unknown lock value', () => {
    const me = parseMe({
      orgId: 'o',
      orgName: 'Acme',
      role: 'rep',
      permissions: [],
      userId: 'u1',
      displayName: 'Sam',
      seesPii: false,
      extension: {
        templates: [{ id: 't1', name: 'Hello', body: 'Hi {{firstName}}' }],
        locked: { notifications: 'off' },
      },
    });
    expect(me.extension.templates).toHaveLength(1);
    expect(me.extension.locked.notifications).toBe('off');
    expect(() =>
      parseMe({
        orgId: 'o',
        orgName: 'A',
        role: 'r',
        permissions: [],
        extension: { locked: { notifications: 'loud' } },
      }),
    ).toThrow(/notifications/);
  });

  it('reads consent evidence, a pending double opt-in and a review pause', () => {
    const lookup = parseContactLookup({
      contact: {
        crm: 'hubspot',
        objectType: 'contact',
        id: '51',
        name: 'Ada',
        phone: '+15125550100',
        timeZone: null,
        localTime: { zone: 'America/Chicago', source: 'area_code', localTime: '2026-11-22T09:00' },
      },
      consent: {
        status: 'unknown',
        updatedAt: null,
        source: null,
        evidence: null,
        pendingOptIn: { source: 'verbal', requestedAt: '2026-11-22T15:00:00.000Z' },
        review: { reviewId: 'r1', reason: 'unclear reply', since: '2026-11-22T14:00:00.000Z' },
      },
    });
    expect(lookup.contact.localTime?.zone).toBe('America/Chicago');
    expect(badgeStatus(lookup.consent)).toBe('pending');
    expect(lookup.consent.review?.reviewId).toBe('r1');
  });

  it('reads redaction marks on messages and tolerates their absence', () => {
    const m = {
      id: 'm',
      conversationId: 'c',
      direction: 'inbound',
      from: '+1',
      to: '+2',
      body: 'card [card ending 1111]',
      status: 'received',
      segments: 1,
      encoding: 'GSM-7',
      errorCode: null,
      errorMessage: null,
      sentBy: null,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
    };
    expect(parseMessage(m).redactions).toEqual([]);
    const marked = parseMessage({
      ...m,
      redactions: [{ kind: 'card', start: 5, end: 23, label: '[card ending 1111]' }],
    });
    expect(marked.redactions[0]?.label).toBe('[card ending 1111]');
  });
});

describe('consent badge', () => {
  it('says who recorded what, how and when', () => {
    const text = evidenceText(
      consent({
        status: 'opted_in',
        evidence: {
          kind: 'opt_in',
          source: 'verbal',
          evidence: 'Agreed on the call',
          actor: 'Sam Rep',
          at: '2026-11-01T10:00:00Z',
        },
      }),
    );
    expect(text).toMatch(
      /^Opted in on .+ via a verbal agreement, recorded by Sam Rep: “Agreed on the call”$/,
    );
  });

  it('explains the states without evidence', () => {
    expect(evidenceText(consent())).toBe('No consent is recorded for this number.');
    expect(
      badgeStatus(consent({ status: 'opted_out', pendingOptIn: { source: null, requestedAt: 'x' } })),
    ).toBe('opted_out');
    expect(
      evidenceText(consent({ pendingOptIn: { source: 'verbal', requestedAt: '2026-11-01T10:00:00Z' } })),
    ).toMatch(/^We asked the customer to reply YES on .+; no answer yet\.$/);
  });
});

describe('times in the customer’s zone', () => {
  it('formats an instant as their wall clock, with the weekday when it is not today there', () => {
    const now = new Date('2026-11-23T03:00:00Z'); // 21:00 on the 22nd in Chicago
    expect(formatInZone('2026-11-23T04:30:00Z', 'America/Chicago', now)).toMatch(/10:30/);
    expect(formatInZone('2026-11-23T14:00:00Z', 'America/Chicago', now)).toMatch(/Mon.*8:00/);
    expect(formatInZone('not a date', 'America/Chicago', now)).toBe('');
  });
});

describe('inbound notifications', () => {
  const message = (patch: Partial<Message> = {}): Message =>
    messageFixture({
      id: 'm1',
      conversationId: 'c1',
      direction: 'inbound',
      from: '+15125550100',
      to: '+15550001111',
      body: 'Yes please',
      status: 'received',
      ...patch,
    });

  const ME = 'u-sam';

  function setup(preference: 'off' | 'mine' | 'all', userId: string | null = ME) {
    const notify = vi.fn();
    const myUserId = vi.fn(async () => userId);
    const notifier = new InboundNotifier({
      preference: async () => preference,
      myUserId,
      contactFor: async (id) =>
        id === 'c1' ? { name: 'Ada Lovelace', pageUrl: 'https://app.hubspot.com/x' } : null,
      notify,
      isOwnText: (m) => m.sentBy === 'Sam Rep',
    });
    return { notifier, notify, myUserId };
  }

  it('notifies once per inbound text on the rep’s own conversations, with the contact’s name', async () => {
    const { notifier, notify } = setup('mine');
    expect(await notifier.handle(message(), 'message.created', [ME, 'u-kim'])).toBe(true);
    expect(await notifier.handle(message(), 'message.created', [ME, 'u-kim'])).toBe(false);
    expect(notify).toHaveBeenCalledTimes(1);
    expect(notify).toHaveBeenCalledWith({
      id: 'm1',
      title: 'Text from Ada Lovelace',
      message: 'Yes please',
      pageUrl: 'https://app.hubspot.com/x',
    });
  });

  it('stays quiet for other reps’ conversations, updates, outbound texts and when turned off', async () => {
    const { notifier, notify } = setup('mine');
    // The event names who has sent in the conversation: a colleague only, or nobody yet.
    expect(
      await notifier.handle(message({ id: 'm2', conversationId: 'c9' }), 'message.created', ['u-kim']),
    ).toBe(false);
    expect(await notifier.handle(message({ id: 'm2b', conversationId: 'c9' }), 'message.created', [])).toBe(
      false,
    );
    // A relay that names no participants: the conversation is not known to be the rep's.
    expect(await notifier.handle(message({ id: 'm2c', conversationId: 'c9' }), 'message.created')).toBe(
      false,
    );
    expect(await notifier.handle(message({ id: 'm3' }), 'message.updated', [ME])).toBe(false);
    expect(await notifier.handle(message({ id: 'm4', direction: 'outbound' }), 'message.created', [ME])).toBe(
      false,
    );
    expect(notify).not.toHaveBeenCalled();

    const off = setup('off');
    expect(await off.notifier.handle(message(), 'message.created', [ME])).toBe(false);
    // An API key of no user owns nothing by participants.
    const keyOnly = setup('mine', null);
    expect(await keyOnly.notifier.handle(message(), 'message.created', [ME])).toBe(false);
    expect(keyOnly.notify).not.toHaveBeenCalled();
  });

  it('learns the rep’s new conversation from their own outbound text, and "all" needs no participants', async () => {
    const { notifier, myUserId } = setup('mine');
    // A colleague's text (the stream of a role that sees all) does not make the conversation ours.
    notifier.noteOutbound(message({ id: 'o0', direction: 'outbound', conversationId: 'c6', sentBy: 'Kim' }));
    expect(await notifier.handle(message({ id: 'm6b', conversationId: 'c6' }), 'message.created')).toBe(
      false,
    );
    notifier.noteOutbound(
      message({ id: 'o1', direction: 'outbound', conversationId: 'c7', sentBy: 'Sam Rep' }),
    );
    myUserId.mockClear();
    expect(
      await notifier.handle(
        message({ id: 'm7', conversationId: 'c7', body: 'x'.repeat(300) }),
        'message.created',
      ),
    ).toBe(true);
    // Known from the rep's own text: no identity lookup was needed.
    expect(myUserId).not.toHaveBeenCalled();
    const all = setup('all');
    expect(await all.notifier.handle(message({ conversationId: 'c42' }), 'message.created', [])).toBe(true);
    expect(all.notify.mock.calls[0]?.[0].title).toBe('Text from +15125550100');
  });

  it('reads the participants an inbound event names, and none from an update or an older relay', () => {
    const data = { message: message(), participants: [ME] };
    expect(parseMessageEvent(data)).toEqual({ message: message(), participants: [ME] });
    expect(parseMessageEvent({ message: message() }).participants).toBeNull();
    expect(() => parseMessageEvent({ message: message(), participants: [7] })).toThrow(/participants\[0\]/);
  });

  it('lets the org’s locked preference win over the rep’s own', () => {
    expect(effectiveNotificationPreference('all', 'off')).toBe('off');
    expect(effectiveNotificationPreference('all', null)).toBe('all');
  });
});

describe('relay URL set by IT policy', () => {
  it('locks to the policy’s URL, ignores a malformed one, and otherwise uses the rep’s own', () => {
    expect(resolveRelayUrl('https://relay.acme.example/', 'http://127.0.0.1:9999')).toEqual({
      relayUrl: 'https://relay.acme.example',
      locked: true,
    });
    expect(resolveRelayUrl('ftp://nope', 'http://127.0.0.1:9999')).toEqual({
      relayUrl: 'http://127.0.0.1:9999',
      locked: false,
    });
    expect(resolveRelayUrl(null, 42)).toEqual({ relayUrl: 'http://127.0.0.1:8787', locked: false });
  });
});
