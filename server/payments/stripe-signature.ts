import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookRejected } from './payment-provider.ts';

/** How far a signature's timestamp may lie from the relay's clock, either way (Stripe's default). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const hmacHex = (secret: string, signedPayload: Buffer): string =>
  createHmac('sha256', secret).update(signedPayload).digest('hex');

const signedPayloadOf = (timestamp: number, rawBody: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), rawBody]);

/** A `Stripe-Signature` header value for this body: `t=<unix>,v1=<hex>` (fakes and the sandbox). */
export function signStripePayload(rawBody: Buffer, secret: string, timestamp: number): string {
  return `t=${timestamp},v1=${hmacHex(secret, signedPayloadOf(timestamp, rawBody))}`;
}

function parseHeader(header: string): { timestamp: number; signatures: string[] } {
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    // Other schemes (v0, future ones) may appear and are ignored, as Stripe asks.
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === null || signatures.length === 0) {
    throw new WebhookRejected(
      'MALFORMED_SIGNATURE',
      'The Stripe-Signature header has no timestamp (t=) or no v1 signature.',
    );
  }
  return { timestamp, signatures };
}

/**
 * Checks a Stripe-Signature header against the exact raw body under any of `secrets` (several
 * during a rotation), in constant time, and refuses a timestamp more than the tolerance away from
 * `now` in either direction: a replay of an old delivery, or one signed for the future.
 */
export function verifyStripeSignature(
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
  now: Date,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): void {
  if (header === undefined || header === '')
    throw new WebhookRejected('MISSING_SIGNATURE', 'The request has no Stripe-Signature header.');
  const { timestamp, signatures } = parseHeader(header);
  const payload = signedPayloadOf(timestamp, rawBody);
  const matches = secrets.some((secret) => {
    const expected = Buffer.from(hmacHex(secret, payload), 'hex');
    return signatures.some((s) => timingSafeEqual(expected, Buffer.from(s, 'hex')));
  });
  if (!matches)
    throw new WebhookRejected('BAD_SIGNATURE', 'No v1 signature matches the body under a configured secret.');
  const skew = Math.abs(Math.floor(now.getTime() / 1000) - timestamp);
  if (skew > toleranceSeconds) {
    throw new WebhookRejected(
      'STALE_SIGNATURE',
      `The signature's timestamp is ${skew} s away from the relay's clock (at most ${toleranceSeconds} s).`,
    );
  }
}
