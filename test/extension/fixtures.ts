import type { ChannelPort } from '../../extension/lib/messages/reconnecting-port.ts';
import type { ContactLookup, Message } from '../../extension/lib/relay-types.ts';

/** A relay message as the panel receives it: an outbound text, queued, unless `patch` says otherwise. */
export function messageFixture(patch: Partial<Message> = {}): Message {
  const at = patch.createdAt ?? '2026-11-22T10:00:00.000Z';
  return {
    id: 'msg_1',
    conversationId: 'conv_1',
    direction: 'outbound',
    from: '+15550001111',
    to: '+15125550100',
    body: 'Hello',
    status: 'queued',
    segments: 1,
    encoding: 'GSM-7',
    errorCode: null,
    errorMessage: null,
    sentBy: null,
    scheduledFor: null,
    redactions: [],
    createdAt: at,
    updatedAt: at,
    ...patch,
  };
}

/** A contact lookup as the panel receives it: HubSpot contact 51, opted in; `contact` overrides its fields. */
export function contactLookupFixture(contact: Partial<ContactLookup['contact']> = {}): ContactLookup {
  return {
    contact: {
      crm: 'hubspot',
      objectType: 'contact',
      id: '51',
      name: 'Ada',
      phone: '+15125550100',
      timeZone: null,
      localTime: null,
      ...contact,
    },
    consent: {
      status: 'opted_in',
      updatedAt: null,
      source: null,
      evidence: null,
      pendingOptIn: null,
      review: null,
    },
  };
}

/**
 * A runtime Port whose far end the test plays: records what is posted to it (a post after the Port
 * was dropped throws, as browsers do), and can deliver a message or go away like a stopped worker.
 */
export function fakePort(name: string, sender?: ChannelPort['sender']) {
  const messageListeners: Array<(message: unknown) => void> = [];
  const disconnectListeners: Array<() => void> = [];
  const port = {
    name,
    sender,
    posted: [] as unknown[],
    disconnected: false,
    postMessage(message: unknown) {
      if (port.disconnected) throw new Error('Attempting to use a disconnected port object');
      port.posted.push(message);
    },
    disconnect() {
      port.disconnected = true;
    },
    onMessage: { addListener: (l: (message: unknown) => void) => messageListeners.push(l) },
    onDisconnect: { addListener: (l: () => void) => disconnectListeners.push(l) },
    /** The far end posts `message`. */
    receive(message: unknown) {
      for (const l of messageListeners) l(message);
    },
    /** The far end goes away (e.g. the service worker stops, or the panel's page closes). */
    drop() {
      port.disconnected = true;
      for (const l of disconnectListeners) l();
    },
  };
  return port satisfies ChannelPort;
}
