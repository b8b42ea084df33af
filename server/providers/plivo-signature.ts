import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SignedRequest } from './sms-provider.ts';

/**
 * Plivo's X-Plivo-Signature-V3 (see ../shared/reference/sdk-contracts.md §1.7): HMAC-SHA256 over
 * the called URL with sorted query, then for POST the body params as key+value sorted by key,
 * then "." and the nonce. Pure, so tests and the sandbox sign exactly as Plivo does.
 */
export function plivoV3StringToSign(
  method: 'GET' | 'POST',
  url: string,
  params: Record<string, string | string[]>,
  nonce: string,
): string {
  const parsed = new URL(url);
  const base = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  const query: [string, string][] = [];
  parsed.searchParams.forEach((value, key) => {
    query.push([key, value]);
  });
  const entries = Object.entries(params).flatMap(([k, v]) =>
    (Array.isArray(v) ? v : [v]).map((x) => [k, x] as [string, string]),
  );
  const byKeyThenValue = (a: [string, string], b: [string, string]): number =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
  if (method === 'GET') {
    const all = [...query, ...entries].sort(byKeyThenValue);
    const qs = all.map(([k, v]) => `${k}=${v}`).join('&');
    return `${base}${qs === '' ? '' : `?${qs}`}.${nonce}`;
  }
  query.sort(byKeyThenValue);
  let out = base;
  if (query.length > 0) out += `?${query.map(([k, v]) => `${k}=${v}`).join('&')}`;
  if (entries.length > 0) {
    out += query.length > 0 ? '.' : '?';
    out += entries
      .sort(byKeyThenValue)
      .map(([k, v]) => `${k}${v}`)
      .join('');
  }
  return `${out}.${nonce}`;
}

export function signPlivoV3(
  method: 'GET' | 'POST',
  url: string,
  params: Record<string, string | string[]>,
  nonce: string,
  authToken: string,
): string {
  return createHmac('sha256', authToken)
    .update(plivoV3StringToSign(method, url, params, nonce), 'utf8')
    .digest('base64');
}

/** True when any of the comma-separated signatures matches; compared in constant time. */
export function verifyPlivoV3(
  method: 'GET' | 'POST',
  url: string,
  params: Record<string, string | string[]>,
  nonce: string,
  authToken: string,
  signatureHeader: string,
): boolean {
  if (nonce === '' || signatureHeader === '') return false;
  const expected = Buffer.from(signPlivoV3(method, url, params, nonce, authToken), 'utf8');
  let ok = false;
  for (const candidate of signatureHeader.split(',')) {
    const given = Buffer.from(candidate.trim(), 'utf8');
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}

export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

/** Checks a webhook request's Plivo V3 signature (headers, URL and params) against the auth token. */
export function verifySignedRequest(request: SignedRequest, authToken: string): boolean {
  return verifyPlivoV3(
    request.method,
    request.url,
    request.params,
    headerValue(request.headers, 'x-plivo-signature-v3-nonce'),
    authToken,
    headerValue(request.headers, 'x-plivo-signature-v3'),
  );
}
