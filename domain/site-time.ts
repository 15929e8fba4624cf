/**
 * Site time: resolve a site address to an IANA zone offline, from packaged geo and
 * timezone data, and read an instant as the site's wall-clock time. Runs in activities only: the data
 * sets are large, so workflow code reads vendor timestamps through local-time.ts instead.
 */
import { cityMapping } from 'city-timezones';
import type { CityData } from 'city-timezones';
import { getAllCountries, getCountry, getTimezone } from 'countries-and-timezones';
import { find as findZonesAt } from 'geo-tz';
import zipcodes from 'zipcodes';
import type { LocalDateTime } from './local-time.js';

/** The share of a country's listed city population one clock must cover to count as its main zone. */
const mainZonePopulationShare = 0.9;

const trailingZip = /\s*\b\d{5}(?:-\d{4})?$/;

// Names people write that the packaged lists spell differently.
const countryAliases: Record<string, string> = {
  'united states': 'US',
  america: 'US',
  uk: 'GB',
  britain: 'GB',
  'great britain': 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  holland: 'NL',
  'the netherlands': 'NL',
  uae: 'AE',
  korea: 'KR',
};

/** Matching key: lower case, no accents, no dots ("U.S.A.", "Zürich"), single spaces. */
function nameKey(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/\./g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

function memo<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

const countryCodesByName = memo(() => {
  const index = new Map<string, string>();
  for (const country of Object.values(getAllCountries())) {
    index.set(nameKey(country.id), country.id);
    index.set(nameKey(country.name), country.id);
  }
  // The city list adds ISO3 codes and older names ("Turkey", "Czech Republic", "Swaziland").
  for (const city of cityMapping) {
    if (!getCountry(city.iso2)) continue;
    index.set(nameKey(city.iso3), city.iso2);
    index.set(nameKey(city.country), city.iso2);
  }
  for (const [alias, code] of Object.entries(countryAliases)) index.set(alias, code);
  return index;
});

/** US state and territory codes present in the ZIP data, by code and by full name. */
const usStateCodesByName = memo(() => {
  const index = new Map<string, string>();
  for (const entry of Object.values(zipcodes.codes)) {
    if (entry.country !== 'US') continue;
    index.set(nameKey(entry.state), entry.state);
    const fullName = zipcodes.states.abbr[entry.state];
    if (fullName) index.set(nameKey(fullName), entry.state);
  }
  return index;
});

const citiesByName = memo(() => {
  const index = new Map<string, CityData[]>();
  for (const city of cityMapping) {
    if (!city.timezone) continue;
    for (const key of new Set([nameKey(city.city), nameKey(city.city_ascii)])) {
      const namesakes = index.get(key);
      if (namesakes) namesakes.push(city);
      else index.set(key, [city]);
    }
  }
  return index;
});

function countryCodeOf(segment: string): string | null {
  return countryCodesByName().get(nameKey(segment)) ?? null;
}

function usStateCodeOf(segment: string): string | null {
  return usStateCodesByName().get(nameKey(segment.replace(trailingZip, ''))) ?? null;
}

function mostPopulous(cities: readonly CityData[]): CityData | undefined {
  return cities.reduce<CityData | undefined>((best, city) => (!best || city.pop > best.pop ? city : best), undefined);
}

/** geo-tz answers Etc/GMT±N for open sea, which is where ZIP entries without coordinates (0, 0) land. */
function zoneAt(latitude: number, longitude: number): string | null {
  const zone = findZonesAt(latitude, longitude)[0];
  return zone && !zone.startsWith('Etc/') ? zone : null;
}

/**
 * The zone of a country with one zone, or of the clock (UTC and DST offsets) that most of its
 * listed city population keeps; null for countries split between clocks (US, Canada, Russia, …).
 */
function mainZoneOfCountry(countryCode: string): string | null {
  const zones = getCountry(countryCode)?.timezones ?? [];
  if (zones.length <= 1) return zones[0] ?? null;
  const clocks = new Map<string, { population: number; cities: CityData[] }>();
  let totalPopulation = 0;
  for (const city of cityMapping) {
    const zone = city.iso2 === countryCode ? getTimezone(city.timezone) : null;
    if (!zone) continue;
    const clockKey = `${zone.utcOffset}/${zone.dstOffset}`;
    const clock = clocks.get(clockKey) ?? { population: 0, cities: [] };
    clock.population += city.pop;
    clock.cities.push(city);
    clocks.set(clockKey, clock);
    totalPopulation += city.pop;
  }
  const main = [...clocks.values()].sort((a, b) => b.population - a.population)[0];
  if (!main || main.population < totalPopulation * mainZonePopulationShare) return null;
  return mostPopulous(main.cities)?.timezone ?? null;
}

/** The zone of the state's most populous listed city; territories' codes are their ISO country codes. */
function zoneOfUsState(stateCode: string): string | null {
  const fullName = nameKey(zipcodes.states.abbr[stateCode] ?? stateCode);
  const cities = cityMapping.filter(
    (city) => city.iso2 === 'US' && (city.state_ansi === stateCode || nameKey(city.province) === fullName),
  );
  return mostPopulous(cities)?.timezone ?? mainZoneOfCountry(stateCode);
}

/** A ZIP (or ZIP+4) ending the address: a leading house number is not one. */
function zoneOfUsZip(place: readonly string[]): string | null {
  const zip = /(?:^|[\s,])(\d{5})(?:-\d{4})?$/.exec(place.join(', '))?.[1];
  const entry = zip ? zipcodes.lookup(zip) : undefined;
  if (!entry || entry.country !== 'US') return null;
  return zoneAt(entry.latitude, entry.longitude) ?? zoneOfUsState(entry.state);
}

function zoneOfUsCity(city: string, stateCode: string): string | null {
  const entry = zipcodes.lookupByName(city, stateCode)[0];
  return entry ? zoneAt(entry.latitude, entry.longitude) : null;
}

/** Search segments from the end (where the city usually is), as written and without postcode words. */
function zoneOfWorldCity(segments: readonly string[], accept: (city: CityData) => boolean): string | null {
  for (const segment of [...segments].reverse()) {
    const withoutPostcode = segment
      .split(' ')
      .filter((word) => !/\d/.test(word))
      .join(' ');
    for (const name of [segment, withoutPostcode]) {
      const best = mostPopulous((citiesByName().get(nameKey(name)) ?? []).filter(accept));
      if (best) return best.timezone;
    }
  }
  return null;
}

/** Comma-separated segments; "Denver CO 80202" also splits before the state code. */
function addressSegments(address: string): string[] {
  const segments = address
    .split(',')
    .map((segment) => segment.replace(/\s+/g, ' ').trim())
    .filter((segment) => segment.length > 0);
  const last = segments.at(-1);
  const cityAndState = last ? /^(.+?) ([A-Z]{2}(?: \d{5}(?:-\d{4})?)?)$/.exec(last) : null;
  if (cityAndState?.[1] && cityAndState[2] && usStateCodeOf(cityAndState[2])) {
    return [...segments.slice(0, -1), cityAndState[1], cityAndState[2]];
  }
  return segments;
}

/**
 * An IANA zone for a free-form site address, offline: US ZIP code, US city and state, world city
 * (most populous match, within the country when one is named), or a country with one main zone.
 * Null when nothing matches; the caller then uses UTC and says so.
 */
export function resolveTimezone(address: string): string | null {
  const segments = addressSegments(address);
  const last = segments.at(-1);
  if (last === undefined) return null;
  // A US state wins over a country spelled the same ("CA", "DE", "Georgia").
  const namedCountry = usStateCodeOf(last) ? null : countryCodeOf(last);
  const place = namedCountry ? segments.slice(0, -1) : segments;
  const stateSegment = place.at(-1);
  const state = stateSegment ? usStateCodeOf(stateSegment) : null;
  const citySegments = state ? place.slice(0, -1) : place;
  const city = citySegments.at(-1);

  if (namedCountry === null || namedCountry === 'US') {
    const zone = zoneOfUsZip(place) ?? (state && city ? zoneOfUsCity(city, state) : null);
    if (zone) return zone;
  }
  if (state && stateSegment) {
    // "Toronto, CA" is a city abroad when the state has no such city.
    const countryOfStateCode = countryCodeOf(stateSegment.replace(trailingZip, ''));
    const zone = zoneOfWorldCity(
      citySegments,
      (candidate) =>
        (candidate.iso2 === 'US' && candidate.state_ansi === state) || candidate.iso2 === countryOfStateCode,
    );
    return zone ?? zoneOfUsState(state);
  }
  if (namedCountry) {
    return zoneOfWorldCity(place, (candidate) => candidate.iso2 === namedCountry) ?? mainZoneOfCountry(namedCountry);
  }
  return zoneOfWorldCity(place, () => true);
}

const wallClockFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of `zone` at `at`, as Intl's parts; throws RangeError for an unknown zone. */
function wallClockParts(zone: string, at: Date): Record<string, string> {
  let format = wallClockFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    wallClockFormats.set(zone, format);
  }
  return Object.fromEntries(format.formatToParts(at).map(({ type, value }) => [type, value]));
}

/** 'YYYY-MM-DD HH:MM:SS' on the wall clock of `zone` at `at`; throws RangeError for an unknown zone. */
export function formatLocalTime(zone: string, at: Date): string {
  const part = wallClockParts(zone, at);
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
}

/** Milliseconds since the epoch of `local` read as UTC; years below 100 stay themselves (Date.UTC would add 1900). */
function utcMillisOf(local: LocalDateTime): number {
  const date = new Date(0);
  date.setUTCFullYear(local.year, local.month - 1, local.day);
  date.setUTCHours(local.hour, local.minute, local.second, 0);
  return date.getTime();
}

/** How far `zone`'s wall clock is ahead of UTC at the whole second `at`, in milliseconds. */
function offsetAt(zone: string, at: number): number {
  const part = wallClockParts(zone, new Date(at));
  const [year, month, day, hour, minute, second] = [part.year, part.month, part.day, part.hour, part.minute, part.second].map(Number) as [
    number, number, number, number, number, number,
  ];
  return utcMillisOf({ year, month, day, hour, minute, second }) - at;
}

const dayMs = 86_400_000;

/**
 * Whether the clocks of `zone` ever show `local`: false inside a gap, the hour skipped when they go forward.
 * A time shown twice when they go back happens (the first time counts). Throws RangeError for an unknown zone.
 */
export function happensInZone(zone: string, local: LocalDateTime): boolean {
  const wallClock = utcMillisOf(local);
  // The zone changes its offset at most once within a day either side, so the time, if it happens, is
  // the wall clock less the offset in force a day before or a day after.
  const offsets = new Set([offsetAt(zone, wallClock - dayMs), offsetAt(zone, wallClock + dayMs)]);
  return [...offsets].some((offset) => offsetAt(zone, wallClock - offset) === offset);
}
