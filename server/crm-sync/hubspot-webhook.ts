import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.ts';
import { resolveSecretsKey, type SecretsKey } from '../crypto/secrets.ts';
import type { Database } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import {
  CONNECTION_COLUMNS,
  type ConnectionRow,
  type CrmConnection,
  openSecrets,
  toConnection,
} from './connections.ts';
import { knownPhonesOf, recordCrmOptOut } from './crm-optout.ts';
import {
  claimHubSpotEvent,
  forgetOldHubSpotEvents,
  queueCrmOptOutLookup,
  releaseHubSpotEvent,
} from './hubspot-webhook-events.ts';

/** HubSpot refuses to be trusted for longer: a signed request older than this is a replay. */
export const HUBSPOT_MAX_AGE_MS = 5 * 60_000;

/** The contact property whose change to opted_out is an opt-out (crm-plugins/hubspot/mapping.ts). */
const CONSENT_PROPERTY = 'sms_consent_status';

type Headers = Record<string, string | string[] | undefined>;

interface HubSpotEvent {
  eventId?: unknown;
  portalId?: unknown;
  objectId?: unknown;
  subscriptionType?: unknown;
  propertyName?: unknown;
  propertyValue?: unknown;
  occurredAt?: unknown;
}

/** What one delivery did: how many events it carried, opted out, had seen before, or could not place. */
export interface HubSpotDeliveryOutcome {
  received: number;
  optOuts: number;
  duplicates: number;
  ignored: number;
}

/** HubSpot's v3 request signature: base64 HMAC-SHA256(clientSecret, method + uri + body + timestamp). */
export function signHubSpotV3(
  secret: string,
  method: string,
  uri: string,
  body: string,
  timestamp: string,
): string {
  return createHmac('sha256', secret).update(`${method}${uri}${body}${timestamp}`, 'utf8').digest('base64');
}

function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function header(headers: Headers, name: string): string | null {
  const value = headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' && text !== '' ? text : null;
}

/**
 * What identifies one HubSpot event across its retries and any replay: HubSpot's event id (which
 * it does not promise unique on its own) with the record and the instant it describes.
 */
function eventKey(event: HubSpotEvent): string | null {
  if (!/^\d{1,20}$/.test(String(event.eventId))) return null;
  return `${String(event.eventId)}:${String(event.objectId)}:${String(event.occurredAt)}`;
}

/** A contact's consent property set to opted_out, on a record id HubSpot could have sent. */
function isOptOutEvent(event: HubSpotEvent): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    event.subscriptionType === 'contact.propertyChange' &&
    event.propertyName === CONSENT_PROPERTY &&
    event.propertyValue === 'opted_out' &&
    /^\d{1,20}$/.test(String(event.objectId))
  );
}

/** The body as HubSpot's array of events, once its signature has been verified. */
function parseEvents(raw: string): HubSpotEvent[] {
  let events: unknown;
  try {
    events = JSON.parse(raw);
  } catch {
    throw new ApiError(400, 'MALFORMED_JSON', 'The webhook body is not JSON.');
  }
  if (!Array.isArray(events)) throw new ApiError(400, 'BAD_WEBHOOK', 'HubSpot sends an array of events.');
  return events as HubSpotEvent[];
}

/**
 * HubSpot webhooks (contact.propertyChange on the SMS consent property). The v3 signature is checked on the
 * raw body before anything is parsed; a contact set to opted_out becomes an opt-out in the ledger at once when
 * the relay knows its numbers, else the sync worker looks the record up (the request never waits on HubSpot).
 */
export class HubSpotWebhookReceiver {
  private key: Promise<SecretsKey | null> | null = null;

  constructor(
    private readonly config: Config,
    private readonly db: Database,
    private readonly warn: (facts: Record<string, string>, message: string) => void,
  ) {}

  /** Verifies, parses and applies one delivery; `url` is the path HubSpot called. */
  async receive(headers: Headers, url: string, raw: string, now: Date): Promise<HubSpotDeliveryOutcome> {
    const verified = await this.signers(headers, url, raw);
    if (verified === null)
      throw new ApiError(403, 'INVALID_SIGNATURE', 'The HubSpot signature is missing or wrong.');
    if (Math.abs(now.getTime() - verified.timestamp) > HUBSPOT_MAX_AGE_MS)
      throw new ApiError(403, 'STALE_WEBHOOK', 'The HubSpot request timestamp is more than 5 minutes off.');
    const events = parseEvents(raw);
    const outcome: HubSpotDeliveryOutcome = {
      received: events.length,
      optOuts: 0,
      duplicates: 0,
      ignored: 0,
    };
    for (const event of events) {
      if (isOptOutEvent(event)) await this.takeIn(event, verified.connections, now, outcome);
    }
    await forgetOldHubSpotEvents(this.db);
    return outcome;
  }

  /** Takes one opt-out event in for its own portal's connection, once. */
  private async takeIn(
    event: HubSpotEvent,
    connections: CrmConnection[],
    now: Date,
    outcome: HubSpotDeliveryOutcome,
  ): Promise<void> {
    const portal = String(event.portalId ?? '');
    // Only the connection of the event's own portal: one app (one signing secret) can be
    // installed in many portals, so a lone connection is no proof the event is its portal's.
    const connection = connections.find((c) => c.settings.portalId === portal);
    const key = eventKey(event);
    if (connection === undefined || key === null) {
      outcome.ignored += 1;
      this.warn(
        { portal, eventId: String(event.eventId ?? '') },
        connection === undefined
          ? `HubSpot webhook event for portal ${portal}, which no connection of this app claims (connect it with its portal id): ignored`
          : 'HubSpot webhook event without an event id: ignored',
      );
      return;
    }
    if (!(await claimHubSpotEvent(this.db, connection.id, key))) {
      outcome.duplicates += 1;
      return;
    }
    try {
      outcome.optOuts += await this.applyOptOut(connection, event, now);
    } catch (error) {
      // Not applied, so not taken in: HubSpot's retry of this event must still count.
      await releaseHubSpotEvent(this.db, connection.id, key);
      throw error;
    }
  }

  /** The sealed-secrets key, read once it exists; neither a failure nor "no key yet" is kept. */
  private secretsKey(): Promise<SecretsKey | null> {
    this.key ??= resolveSecretsKey(this.db, {
      configured: this.config.secretsKey,
      sandbox: this.config.smsProvider === 'sandbox',
      readOnly: true,
    });
    // A sandbox key may be created later by the CLI, so a miss is asked again next time.
    const pending = this.key;
    pending.then(
      (found) => {
        if (found === null && this.key === pending) this.key = null;
      },
      () => {
        if (this.key === pending) this.key = null;
      },
    );
    return pending;
  }

  /** The connections whose client secret (or HUBSPOT_CLIENT_SECRET) made this signature. */
  private async signers(headers: Headers, url: string, raw: string) {
    const signature = header(headers, 'x-hubspot-signature-v3');
    const timestamp = header(headers, 'x-hubspot-request-timestamp');
    if (signature === null || timestamp === null || !/^\d{10,16}$/.test(timestamp)) return null;
    const uri = `${this.config.publicUrl}${url}`;
    const matches = (secret: string) =>
      sameSignature(signHubSpotV3(secret, 'POST', uri, raw, timestamp), signature);
    const rows = await this.db.query<ConnectionRow>(
      `SELECT ${CONNECTION_COLUMNS} FROM crm_connections WHERE crm = 'hubspot' AND status <> 'disconnected'`,
    );
    const connections = rows.map(toConnection);
    const envMatches = this.config.hubspotClientSecret !== null && matches(this.config.hubspotClientSecret);
    const k = connections.length === 0 || envMatches ? null : await this.secretsKey();
    const signed = connections.filter((c) => {
      if (envMatches) return true;
      if (k === null) return false;
      try {
        const secret = openSecrets(k, c).clientSecret;
        return typeof secret === 'string' && matches(secret);
      } catch {
        // A connection whose secrets do not open under this key did not sign the request.
        return false;
      }
    });
    if (signed.length === 0 && !envMatches) return null;
    return { connections: signed, timestamp: Number(timestamp) };
  }

  /** Records one opt-out event for its connection; how many numbers it opted out. */
  private async applyOptOut(connection: CrmConnection, event: HubSpotEvent, now: Date): Promise<number> {
    const ref = { crm: 'hubspot' as const, objectType: 'contact' as const, id: String(event.objectId) };
    const occurredAt =
      typeof event.occurredAt === 'number' && Number.isFinite(event.occurredAt)
        ? new Date(event.occurredAt)
        : now;
    const phones = await knownPhonesOf(this.db, {
      orgId: connection.orgId,
      connectionId: connection.id,
      ref,
    });
    if (phones.length === 0) {
      await queueCrmOptOutLookup(this.db, connection, ref.id);
      return 0;
    }
    const recorded = await recordCrmOptOut(this.db, {
      orgId: connection.orgId,
      ref,
      phones,
      changedAt: occurredAt,
      via: 'webhook',
      now,
    });
    return recorded.length;
  }
}
