/**
 * The country an IP address is in, offline: DB-IP's free "IP to Country Lite" table (CC BY 4.0,
 * the @ip-location-db/dbip-country package; attribution: IP Geolocation by DB-IP,
 * https://db-ip.com). Each family's table is read on first use into sorted arrays and searched by
 * binary search; an address in no range (private, loopback, unallocated) has no country.
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';

export const IP_COUNTRY_ATTRIBUTION = 'IP Geolocation by DB-IP (https://db-ip.com)';

interface Ranges {
  starts: BigUint64Array | Uint32Array;
  ends: BigUint64Array | Uint32Array;
  countries: string[];
}

const require = createRequire(import.meta.url);
const tables = new Map<4 | 6, Promise<Ranges>>();

/** IPv4 as a number; IPv6 as its upper 64 bits (countries are never assigned finer than a /64). */
async function load(family: 4 | 6): Promise<Ranges> {
  const file = require.resolve(`@ip-location-db/dbip-country/dbip-country-ipv${family}-num.csv`);
  const lines = (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  const starts = family === 4 ? new Uint32Array(lines.length) : new BigUint64Array(lines.length);
  const ends = family === 4 ? new Uint32Array(lines.length) : new BigUint64Array(lines.length);
  const countries: string[] = new Array(lines.length);
  lines.forEach((line, i) => {
    const [start = '0', end = '0', country = ''] = line.split(',');
    if (family === 4) {
      starts[i] = Number(start);
      ends[i] = Number(end);
    } else {
      (starts as BigUint64Array)[i] = BigInt(start) >> 64n;
      (ends as BigUint64Array)[i] = BigInt(end) >> 64n;
    }
    countries[i] = country.trim();
  });
  return { starts, ends, countries };
}

function table(family: 4 | 6): Promise<Ranges> {
  let found = tables.get(family);
  if (found === undefined) {
    found = load(family);
    // A failed read is tried again next time rather than remembered.
    found.catch(() => tables.delete(family));
    tables.set(family, found);
  }
  return found;
}

/** Reads the IPv4 table ahead of the first sign-in that needs it (about 0.2 s). */
export function preloadIpCountries(): void {
  // best effort: a table that cannot be read now is read again (and its error thrown) at first use.
  table(4).catch(() => undefined);
}

/** Addresses no country owns (loopback, private, link-local, documentation): answered without the tables. */
const NOWHERE = new net.BlockList();
for (const [net4, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const)
  NOWHERE.addSubnet(net4, prefix, 'ipv4');
for (const [net6, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  NOWHERE.addSubnet(net6, prefix, 'ipv6');

function ipv4Number(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** The upper 64 bits of an IPv6 address. */
function ipv6Prefix(ip: string): bigint {
  const [head = '', tail] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.slice(0, 4).reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

function search(ranges: Ranges, value: number | bigint): string | null {
  let lo = 0;
  let hi = ranges.starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((ranges.starts[mid] as number | bigint) <= value) lo = mid + 1;
    else hi = mid - 1;
  }
  if (hi < 0 || (ranges.ends[hi] as number | bigint) < value) return null;
  const country = ranges.countries[hi] ?? '';
  return /^[A-Z]{2}$/.test(country) ? country : null;
}

/** ISO 3166 alpha-2 code of the address's country, or null when it has none (or is no address). */
export async function countryOf(ip: string | null | undefined): Promise<string | null> {
  if (ip == null) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const address = mapped ?? ip;
  const family = net.isIP(address);
  if (family === 0 || NOWHERE.check(address, family === 4 ? 'ipv4' : 'ipv6')) return null;
  if (family === 4) return search(await table(4), ipv4Number(address));
  if (family === 6) return search(await table(6), ipv6Prefix(address));
  return null;
}
