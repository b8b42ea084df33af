import { createHmac, randomBytes } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { instanceSecret } from '../providers/sandbox-sms.ts';

/** How long the org's collector has to answer. */
const TIMEOUT_MS = 5_000;

/**
 * The secret an org's collector checks alert signatures with: derived from an installation
 * secret and the org's id, so nothing per org is stored and each org's differs
 * (`npm run cli -- alerts webhook-secret --org <id>` shows it).
 */
export async function alertWebhookSecret(db: Database, orgId: string): Promise<string> {
  const key = await instanceSecret(db, 'alert_webhook_key', () => randomBytes(32).toString('base64'));
  return `whsec_${createHmac('sha256', key).update(`alert-webhook:${orgId}`).digest('hex')}`;
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, as Stripe signs its events. */
export function alertSignature(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** POSTs one alert to the org's collector; true when it answered 2xx. Never throws. */
export async function postAlert(
  url: string,
  secret: string,
  payload: object,
  at: Date,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const body = JSON.stringify(payload);
  try {
    const answer = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'crm-texting-signature': alertSignature(secret, body, at),
      },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    // best effort: the answer's body says nothing we act on; it is read only to free the socket.
    await answer.arrayBuffer().catch(() => undefined);
    return answer.ok ? { ok: true } : { ok: false, reason: `HTTP ${answer.status}` };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
