/**
 * Vendor local timestamps ('YYYY-MM-DD HH:MM[:SS]', site local time, no zone).
 * Pure and import-free: the rule engine in workflow code reads the hour from here, while the
 * address-to-zone resolver (site-time.ts) pulls in geo data that must stay out of the workflow bundle.
 */

export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const vendorTimestampPattern = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$/;

const daysPerMonth = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (daysPerMonth[month - 1] ?? 0);
}

/** A real calendar time in 24-hour form, or null (2023-02-29, 24:00, 12:60 and the year 0000 are not). */
export function parseVendorTimestamp(s: string): LocalDateTime | null {
  const match = vendorTimestampPattern.exec(s);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? '0')) as [
    number, number, number, number, number, number,
  ];
  // The Gregorian calendar has no year 0: 1 BC is followed by AD 1.
  if (year < 1) return null;
  if (month < 1 || month > 12) return null;
  if (day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  return { year, month, day, hour, minute, second };
}

/** The hour (0–23) of a vendor timestamp, or null when it is not one. */
export function localHourOf(vendorTime: string): number | null {
  return parseVendorTimestamp(vendorTime)?.hour ?? null;
}
