/**
 * Where a recipient may be (#4): the IANA zones, states and countries presumed from the CRM's time
 * zone and address and from the number's NANP area code (versioned in data/nanp-area-codes.json).
 * Pure; the quiet-hours rule and the frequency cap judge by what this resolves.
 */
import { BoundedCache } from '../lib/bounded-cache.ts';
import areaCodeData from './data/nanp-area-codes.json' with { type: 'json' };

interface AreaCodeEntry {
  country: string;
  regions: string[];
  zones: string[];
}

export const AREA_CODES_VERSION: string = areaCodeData.version;

const AREA_CODES = areaCodeData.areaCodes as Record<string, AreaCodeEntry>;

const CANADIAN_REGIONS = new Set([
  'AB',
  'BC',
  'MB',
  'NB',
  'NL',
  'NS',
  'NT',
  'NU',
  'ON',
  'PE',
  'QC',
  'SK',
  'YT',
]);

/** Zones of each region and country, derived once from the area-code table. */
const zonesByRegion = new Map<string, Set<string>>();
const zonesByCountry = new Map<string, Set<string>>();
// Territories have their own area codes but are not where an unknown US number is presumed to be:
// the country default spans the states' zones (HST…EST), as the research's algorithm says.
const TERRITORIES = new Set(['PR', 'VI', 'GU', 'MP', 'AS']);
for (const entry of Object.values(AREA_CODES)) {
  for (const region of entry.regions) {
    const set = zonesByRegion.get(region) ?? new Set<string>();
    for (const zone of entry.zones) set.add(zone);
    zonesByRegion.set(region, set);
  }
  if (entry.regions.some((r) => TERRITORIES.has(r))) continue;
  const set = zonesByCountry.get(entry.country) ?? new Set<string>();
  for (const zone of entry.zones) set.add(zone);
  zonesByCountry.set(entry.country, set);
}

/** Where a recipient's zones were learnt, most specific first. */
export type ZoneSource = 'crm_time_zone' | 'crm_address' | 'area_code' | 'country_default' | 'unknown';

/** Where a recipient may be: every rule is judged in every zone listed. */
export interface RecipientZones {
  /** Every IANA zone the recipient may be in; all of them must allow a send. */
  zones: string[];
  /** Every state/province whose rules apply (CRM address and area-code presumption). */
  states: string[];
  countries: string[];
  source: ZoneSource;
}

// Building an Intl formatter is the costly part of zone math; every send asks about the same
// few zones, so answers are remembered (bounded: unknown strings are not cached once full).
const zoneValidity = new Map<string, boolean>();

/** Whether `zone` is an IANA zone this runtime knows. */
export function isValidTimeZone(zone: string): boolean {
  const known = zoneValidity.get(zone);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    valid = true;
  } catch {
    valid = false;
  }
  if (zoneValidity.size < 1000) zoneValidity.set(zone, valid);
  return valid;
}

/** Punctuation people write inside a number; a +1 number and its area code; a plain +1 number. */
const SEPARATORS = /[\s().-]/g;
const AREA_CODE = /^\+1(\d{3})\d{7}$/;
const NANP = /^\+1\d{10}$/;

/** The area-code entry of a +1 number, or null for other countries and non-geographic codes. */
export function lookupAreaCode(phoneE164: string): (AreaCodeEntry & { areaCode: string }) | null {
  const match = AREA_CODE.exec(phoneE164.replace(SEPARATORS, ''));
  if (match === null) return null;
  const areaCode = match[1] as string;
  const entry = AREA_CODES[areaCode];
  return entry === undefined ? null : { ...entry, areaCode };
}

/** Whether `region` is a state, province or territory code the area-code table knows. */
export function isKnownRegion(region: string): boolean {
  return zonesByRegion.has(region);
}

/** The country of a state or province code: CA for the Canadian ones, US otherwise. */
export function countryOfRegion(region: string): string {
  return CANADIAN_REGIONS.has(region) ? 'CA' : 'US';
}

/**
 * Where the recipient may be, most specific source first: the CRM's time zone, then the CRM
 * address state, then the area code, then every zone of the country (strictest). States are the
 * union of the CRM state and the area-code state: FL, OK, CT and WA presume residence from the
 * area code even when the address says otherwise.
 */
export function resolveRecipientZones(input: {
  crmTimeZone?: string | null;
  crmAddressState?: string | null;
  phoneE164: string;
}): RecipientZones {
  // Of the number, only its area code and whether it is plain +1 and ten digits count (#20).
  const areaCode = AREA_CODE.exec(input.phoneE164.replace(SEPARATORS, ''))?.[1] ?? '';
  const shape = `${areaCode}${NANP.test(input.phoneE164) ? '+' : '-'}`;
  const key = JSON.stringify([shape, input.crmTimeZone ?? null, input.crmAddressState ?? null]);
  const zones = resolved.getOrCompute(key, () => resolveUncached(input));
  // Copies, so a caller cannot change a remembered answer.
  return { ...zones, zones: [...zones.zones], states: [...zones.states], countries: [...zones.countries] };
}

/** Zones per area code and CRM fields; bounded, as CRM fields are free text. */
const resolved = new BoundedCache<string, RecipientZones>(4096);

/** Entries in the zone-resolution cache, for the test that it stays bounded. */
export const recipientZonesCacheSize = (): number => resolved.size;

/** `resolveRecipientZones`, never remembered: what the cache's property test compares with. */
export function resolveUncached(input: Parameters<typeof resolveRecipientZones>[0]): RecipientZones {
  const areaCode = lookupAreaCode(input.phoneE164);
  const crmState = input.crmAddressState?.trim().toUpperCase() || null;
  const knownCrmState = crmState !== null && zonesByRegion.has(crmState) ? crmState : null;
  const states = [
    ...new Set([...(knownCrmState === null ? [] : [knownCrmState]), ...(areaCode?.regions ?? [])]),
  ];
  const countries = [
    ...new Set([
      ...(knownCrmState === null ? [] : [countryOfRegion(knownCrmState)]),
      ...(areaCode === null ? [] : [areaCode.country]),
    ]),
  ];
  let regional: RecipientZones;
  if (knownCrmState !== null) {
    regional = {
      zones: [...(zonesByRegion.get(knownCrmState) ?? [])],
      states,
      countries,
      source: 'crm_address',
    };
  } else if (areaCode !== null) {
    regional = { zones: [...areaCode.zones], states, countries, source: 'area_code' };
  } else if (NANP.test(input.phoneE164)) {
    regional = {
      zones: [...(zonesByCountry.get('US') ?? [])],
      states: [],
      countries: ['US'],
      source: 'country_default',
    };
  } else {
    regional = { zones: [], states: [], countries: [], source: 'unknown' };
  }
  return preferCrmTimeZone(regional, input.crmTimeZone ?? null);
}

/**
 * Zones resolved without the CRM's time zone, with it applied: a valid CRM zone replaces the
 * zones (states and countries stay, since the rules of a presumed residence still apply). The
 * send path resolves the number before it reads the CRM's zone, and applies the zone after.
 */
export function preferCrmTimeZone(regional: RecipientZones, crmTimeZone: string | null): RecipientZones {
  const crmZone = crmTimeZone?.trim();
  if (!crmZone || !isValidTimeZone(crmZone)) return regional;
  return {
    zones: [crmZone],
    states: regional.states,
    countries: regional.countries.length > 0 ? regional.countries : ['US'],
    source: 'crm_time_zone',
  };
}
