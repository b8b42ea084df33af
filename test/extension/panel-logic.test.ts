// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { decodeContactRef, encodeContactRef } from '../../extension/lib/contact-ref.ts';
import { clampWidth, parseLayout } from '../../extension/lib/dock/panel-layout.ts';
import type { Message } from '../../extension/lib/relay-types.ts';
import { attemptFor } from '../../extension/lib/send-attempt.ts';
import { normalizeRelayUrl } from '../../extension/lib/settings.ts';
import { belongsToThread, defaultSender, mergeMessages } from '../../extension/lib/thread.ts';
import { messageFixture } from './fixtures.ts';

function msg(id: string, createdAt: string, patch: Partial<Message> = {}): Message {
  return messageFixture({
    id,
    conversationId: 'c1',
    to: '+15552223333',
    body: id,
    createdAt,
    updatedAt: createdAt,
    ...patch,
  });
}

describe('contact ref in the panel hash', () => {
  it('round-trips a HubSpot ref with its portal', () => {
    const ref = { crm: 'hubspot', objectType: 'contact', id: '51', portalId: '8675309' } as const;
    expect(decodeContactRef(encodeContactRef(ref))).toEqual(ref);
  });

  it('reads "none" and anything malformed as no contact', () => {
    expect(decodeContactRef(encodeContactRef(null))).toBeNull();
    expect(decodeContactRef('#crm=zendesk&objectType=contact&id=1')).toBeNull();
    expect(decodeContactRef('#crm=hubspot&objectType=deal&id=1')).toBeNull();
    expect(decodeContactRef('#crm=hubspot&objectType=contact&id=<script>')).toBeNull();
    expect(decodeContactRef('#crm=hubspot&objectType=contact&id=1&portalId=x')).toBeNull();
  });
});

describe('draft idempotency', () => {
  let n = 0;
  const key = () => `key-${++n}`;
  const draft = { from: '+15550001111', to: '+15552223333', body: 'Hello' };

  it('reuses the key when the same draft is retried', () => {
    const first = attemptFor(null, draft, key);
    expect(attemptFor(first, { ...draft }, key).key).toBe(first.key);
  });

  it('uses a fresh key once the text or sender changes', () => {
    const first = attemptFor(null, draft, key);
    expect(attemptFor(first, { ...draft, body: 'Hello!' }, key).key).not.toBe(first.key);
    expect(attemptFor(first, { ...draft, from: '+15559990000' }, key).key).not.toBe(first.key);
  });

  it('defaults to random UUIDs', () => {
    expect(attemptFor(null, draft).key).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('thread', () => {
  it('keeps the newest message last and never rolls a status back', () => {
    const a = msg('a', '2025-01-01T10:00:00Z');
    const b = msg('b', '2025-01-01T10:05:00Z');
    const delivered = { ...a, status: 'delivered' as const, updatedAt: '2025-01-01T10:01:00Z' };
    let thread = mergeMessages([], [b, a]);
    expect(thread.map((m) => m.id)).toEqual(['a', 'b']);
    thread = mergeMessages(thread, [delivered]);
    thread = mergeMessages(thread, [a]); // a late, older event
    expect(thread.find((m) => m.id === 'a')?.status).toBe('delivered');
  });

  it('matches live messages to the contact and sender in both directions', () => {
    const inbound = msg('i', '2025-01-01T10:00:00Z', {
      direction: 'inbound',
      from: '+15552223333',
      to: '+15550001111',
    });
    expect(belongsToThread(inbound, '+15552223333', '+15550001111')).toBe(true);
    expect(belongsToThread(msg('o', '2025-01-01T10:00:00Z'), '+15552223333', '+15550001111')).toBe(true);
    expect(belongsToThread(inbound, '+15552223333', '+15559999999')).toBe(false);
  });

  it('preselects the sender of the most recent conversation', () => {
    const numbers = [
      { id: 'n1', e164: '+15550001111', label: 'Main' },
      { id: 'n2', e164: '+15550002222', label: null },
    ];
    const conversations = [
      {
        id: 'c1',
        senderNumber: '+15550001111',
        contactPhone: '+1',
        contact: null,
        lastMessageAt: '2025-01-01T00:00:00Z',
      },
      {
        id: 'c2',
        senderNumber: '+15550002222',
        contactPhone: '+1',
        contact: null,
        lastMessageAt: '2025-02-01T00:00:00Z',
      },
    ];
    expect(defaultSender(numbers, conversations)).toBe('+15550002222');
    expect(defaultSender(numbers, [])).toBe('+15550001111');
    expect(defaultSender([], conversations)).toBeNull();
  });
});

describe('display helpers', () => {
  it('accepts only http(s) relay URLs and trims trailing slashes', () => {
    expect(normalizeRelayUrl(' http://127.0.0.1:8787/ ')).toBe('http://127.0.0.1:8787');
    expect(normalizeRelayUrl('https://relay.example/api/?x=1#y')).toBe('https://relay.example/api');
    expect(normalizeRelayUrl('javascript:alert(1)')).toBeNull();
    expect(normalizeRelayUrl('https://user:pw@relay.example')).toBeNull();
    expect(normalizeRelayUrl('relay.example')).toBeNull();
  });

  it('clamps the panel width and falls back on a malformed stored layout', () => {
    expect(clampWidth(100, 1400)).toBe(320);
    expect(clampWidth(2000, 1400)).toBe(640);
    expect(clampWidth(600, 600)).toBe(520);
    expect(parseLayout({ collapsed: 'yes', width: 500 })).toEqual({
      collapsed: false,
      width: 500,
      mode: 'pinned',
    });
    expect(parseLayout(null)).toEqual({ collapsed: false, width: 380, mode: 'pinned' });
  });
});
