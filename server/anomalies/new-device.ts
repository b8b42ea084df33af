import { appendAudit } from '../audit/audit-log.ts';
import type { Queryable } from '../db/database.ts';
import { newId } from '../ids.ts';
import { BUCKET_MS } from './detector.ts';
import { countryOf } from './ip-country.ts';

const BROWSERS: [RegExp, string][] = [
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrome\/|CriOS\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];
const SYSTEMS: [RegExp, string][] = [
  [/Windows/, 'Windows'],
  [/iPhone|iPad|iOS/, 'iOS'],
  [/Android/, 'Android'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

/**
 * A device as a person would name it, from the browser's User-Agent: browser and operating system
 * without versions ("Chrome on Windows"), so an update is not a new device. No User-Agent, or one
 * no browser sends (a script), is "an unknown device".
 */
export function deviceOf(userAgent: string | null | undefined): string {
  const ua = userAgent ?? '';
  const browser = BROWSERS.find(([pattern]) => pattern.test(ua))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1];
  if (browser === undefined || system === undefined) return 'an unknown device';
  return `${browser} on ${system}`;
}

interface SignInFacts {
  orgId: string;
  userId: string;
  sessionId: string;
  userAgent: string | null;
  ip: string;
  now: Date;
}

/**
 * After a sign-in opened session `sessionId`: when the person signed in before, but never from
 * this device, or never from this country, an alert tells the org's admins (a stolen password
 * used elsewhere shows so). A first sign-in is not news, nor an address with no country (private,
 * loopback) or a person whose earlier addresses had none. Runs in the sign-in's transaction.
 */
export async function alertOnNewSignInPlace(tx: Queryable, input: SignInFacts): Promise<void> {
  const before = await tx.query<{ user_agent: string | null; ip: string | null }>(
    `SELECT user_agent, ip FROM auth_sessions WHERE user_id = $1 AND id <> $2 ORDER BY created_at DESC LIMIT 200`,
    [input.userId, input.sessionId],
  );
  if (before.length === 0) return;
  const device = deviceOf(input.userAgent);
  if (!before.some((s) => deviceOf(s.user_agent) === device))
    await raise(tx, input, 'new_device', { device, ip: input.ip });
  const country = await countryOf(input.ip);
  if (country === null) return;
  const earlier = new Set<string>();
  for (const ip of new Set(before.map((s) => s.ip))) {
    const known = await countryOf(ip);
    if (known !== null) earlier.add(known);
  }
  if (earlier.size > 0 && !earlier.has(country))
    await raise(tx, input, 'new_country', { country, ip: input.ip, usual: [...earlier].sort() });
}

/** One alert per person, kind and hour; its audit entry. */
async function raise(
  tx: Queryable,
  input: SignInFacts,
  metric: 'new_device' | 'new_country',
  detail: Record<string, unknown>,
): Promise<void> {
  const id = newId();
  const hour = new Date(Math.floor(input.now.getTime() / BUCKET_MS) * BUCKET_MS);
  const inserted = await tx.query(
    `INSERT INTO anomaly_alerts (id, org_id, subject, user_id, metric, bucket_start, observed, expected, deviation,
                                 created_at, detail)
     VALUES ($1, $2, $3, $4, $8, $5, 1, 0, 0, $6, $7)
     ON CONFLICT (org_id, subject, metric, bucket_start) DO NOTHING RETURNING id`,
    [id, input.orgId, `user:${input.userId}`, input.userId, hour, input.now, JSON.stringify(detail), metric],
  );
  if (inserted.length === 0) return;
  const { ip: _ip, ...said } = detail;
  await appendAudit(tx, {
    orgId: input.orgId,
    actor: 'system:anomaly-alerts',
    action: 'anomaly.alert_raised',
    target: { type: 'user', id: input.userId },
    at: input.now,
    ip: input.ip,
    detail: { alertId: id, metric, ...said },
  });
}
