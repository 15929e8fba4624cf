import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localHourOf, parseVendorTimestamp } from '../../domain/local-time.js';
import { formatLocalTime, happensInZone, resolveTimezone } from '../../domain/site-time.js';

describe('parseVendorTimestamp', () => {
  const valid = [
    ['2024-03-15 23:14', { year: 2024, month: 3, day: 15, hour: 23, minute: 14, second: 0 }],
    ['2024-03-15 23:14:59', { year: 2024, month: 3, day: 15, hour: 23, minute: 14, second: 59 }],
    ['2024-02-29 00:00:00', { year: 2024, month: 2, day: 29, hour: 0, minute: 0, second: 0 }],
    ['2000-02-29 12:00', { year: 2000, month: 2, day: 29, hour: 12, minute: 0, second: 0 }],
    ['2023-12-31 23:59:59', { year: 2023, month: 12, day: 31, hour: 23, minute: 59, second: 59 }],
  ] as const;
  for (const [input, expected] of valid) {
    it(`reads ${input}`, () => assert.deepEqual(parseVendorTimestamp(input), expected));
  }

  const invalid = [
    '2023-02-29 10:00', // not a leap year
    '1900-02-29 10:00', // century, not a leap year
    '2024-04-31 10:00', // April has 30 days
    '2024-13-01 10:00',
    '2024-00-10 10:00',
    '2024-01-00 10:00',
    '2024-01-01 24:00',
    '2024-01-01 12:60',
    '2024-01-01 12:00:60',
    '0000-01-01 00:00', // there is no year 0
    '2024-01-01T12:00:00', // ISO separator
    '2024-01-01 12:00:00Z',
    '2024-1-01 12:00',
    '2024-01-01 7:00',
    ' 2024-01-01 12:00',
    '2024-01-01 12:00 ',
    '2024-01-01',
    '',
  ];
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input)}`, () => assert.equal(parseVendorTimestamp(input), null));
  }
});

describe('localHourOf', () => {
  it('gives the hour of a vendor timestamp', () => {
    assert.equal(localHourOf('2024-03-15 23:14:00'), 23);
    assert.equal(localHourOf('2024-03-15 00:05'), 0);
  });
  it('gives null for something else', () => assert.equal(localHourOf('yesterday 23:00'), null));
});

describe('resolveTimezone', () => {
  const cases: Array<[address: string, zone: string | null]> = [
    ['123 Main St, New York, NY 10001', 'America/New_York'],
    ['1600 Amphitheatre Pkwy, Mountain View, CA 94043', 'America/Los_Angeles'],
    ['1600 Amphitheatre Pkwy, Mountain View, CA 94043-1351', 'America/Los_Angeles'],
    ['94043', 'America/Los_Angeles'],
    ['Denver CO 80202', 'America/Denver'],
    ['Indianapolis, IN 46204', 'America/Indiana/Indianapolis'],
    ['Honolulu, HI 96813, USA', 'Pacific/Honolulu'],
    // A leading house number is not a ZIP code (12345 is Schenectady, NY).
    ['12345 Main St, Denver, CO', 'America/Denver'],
    ['Denver, CO', 'America/Denver'],
    ['Phoenix, Arizona', 'America/Phoenix'],
    ['Boise, Idaho, USA', 'America/Boise'],
    ['Washington, DC', 'America/New_York'],
    ['Portland, ME', 'America/New_York'],
    ['Portland, OR', 'America/Los_Angeles'],
    // The state is known but the town is not in the data: the state's main zone.
    ['Nowheresville, TX', 'America/Chicago'],
    ['Arizona', 'America/Phoenix'],
    // State codes and country names that collide.
    ['Toronto, CA', 'America/Toronto'],
    ['Berlin, DE', 'Europe/Berlin'],
    ['Atlanta, Georgia', 'America/New_York'],
    ['Tbilisi, Georgia', 'Asia/Tbilisi'],
    ['10 Downing Street, London, United Kingdom', 'Europe/London'],
    ['London SW1A 2AA, UK', 'Europe/London'],
    ['Unter den Linden 1, 10117 Berlin, Germany', 'Europe/Berlin'],
    ['75008 Paris, France', 'Europe/Paris'],
    ['Berlin, Germany', 'Europe/Berlin'],
    ['São Paulo, Brazil', 'America/Sao_Paulo'],
    ['Zürich', 'Europe/Zurich'],
    ['Tokyo', 'Asia/Tokyo'],
    ['Sydney, Australia', 'Australia/Sydney'],
    // London, Kentucky exists, but the most populous London wins without a country.
    ['London', 'Europe/London'],
    ['Germany', 'Europe/Berlin'],
    ['Spain', 'Europe/Madrid'],
    ['jp', 'Asia/Tokyo'],
    ['Czech Republic', 'Europe/Prague'],
    ['San Juan, Puerto Rico', 'America/Puerto_Rico'],
    // Countries split between clocks have no single answer.
    ['United States', null],
    ['Australia', null],
    ['Russia', null],
    ['asdfgh', null],
    ['', null],
    [' , ,', null],
  ];
  for (const [address, zone] of cases) {
    it(`${JSON.stringify(address)} → ${zone}`, () => assert.equal(resolveTimezone(address), zone));
  }
});

describe('formatLocalTime', () => {
  const cases: Array<[zone: string, iso: string, expected: string]> = [
    ['UTC', '2024-01-01T00:00:00Z', '2024-01-01 00:00:00'],
    ['America/New_York', '2024-07-04T04:05:06Z', '2024-07-04 00:05:06'], // EDT, and midnight is 00 not 24
    ['America/New_York', '2024-01-15T04:05:06Z', '2024-01-14 23:05:06'], // EST
    ['Asia/Kolkata', '2024-01-15T20:00:00Z', '2024-01-16 01:30:00'],
    ['Europe/London', '2024-03-31T00:59:59Z', '2024-03-31 00:59:59'], // last second before BST
    ['Europe/London', '2024-03-31T01:00:00Z', '2024-03-31 02:00:00'],
  ];
  for (const [zone, iso, expected] of cases) {
    it(`${iso} in ${zone} is ${expected}`, () => assert.equal(formatLocalTime(zone, new Date(iso)), expected));
  }

  it('round-trips through parseVendorTimestamp', () => {
    // AEST (UTC+10) in May.
    assert.deepEqual(parseVendorTimestamp(formatLocalTime('Australia/Sydney', new Date('2024-05-05T13:14:15Z'))), {
      year: 2024, month: 5, day: 5, hour: 23, minute: 14, second: 15,
    });
  });

  it('rejects an unknown zone', () => {
    assert.throws(() => formatLocalTime('Mars/Olympus_Mons', new Date()), RangeError);
  });
});

describe('happensInZone', () => {
  const cases: Array<[zone: string, time: string, happens: boolean]> = [
    ['Europe/London', '2026-03-29 00:59:59', true],
    ['Europe/London', '2026-03-29 01:30', false], // GMT 01:00 becomes BST 02:00
    ['Europe/London', '2026-03-29 02:00', true],
    ['Europe/Paris', '2026-03-29 02:30', false],
    ['America/New_York', '2026-03-08 02:30', false],
    ['America/New_York', '2026-03-08 03:00', true],
    ['America/New_York', '2026-11-01 01:30', true], // shown twice as clocks go back
    ['Europe/London', '2026-10-25 01:30', true],
    ['Australia/Lord_Howe', '2026-10-04 02:15', false], // a half-hour shift
    ['Australia/Lord_Howe', '2026-10-04 02:30', true],
    ['Pacific/Apia', '2011-12-30 12:00', false], // Samoa skipped the whole day
    ['Asia/Kolkata', '2026-03-29 01:30', true],
    ['UTC', '0001-01-01 00:00', true],
  ];
  for (const [zone, time, happens] of cases) {
    it(`${time} ${happens ? 'happens' : 'never happens'} in ${zone}`, () => assert.equal(happensInZone(zone, parseVendorTimestamp(time)!), happens));
  }
});
