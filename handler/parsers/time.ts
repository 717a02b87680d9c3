/**
 * Timestamp helpers shared by the S3 log parsers. Entries carry whole seconds plus nanoseconds
 * (see LogEntry) so that ALB's microseconds and CloudTrail's seconds both survive exactly.
 * Everything here is UTC arithmetic on digits: no Date parsing of free text, no clock.
 */
import { isStorableTimestamp } from "../types";

export interface Timestamp {
  sec: number;
  nsec: number;
}

/** Nanoseconds from the digits after the decimal point ("186641" -> 186641000); extra digits are cut. */
export function fractionToNanos(digits: string | undefined): number {
  if (!digits) return 0;
  const nine = digits.length >= 9 ? digits.slice(0, 9) : digits + "000000000".slice(digits.length);
  return Number(nine);
}

/** 400 Gregorian years are exactly 146 097 days. */
const FOUR_CENTURIES_MS = 146_097 * 86_400_000;

/** Days of each month in a common year. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const isLeapYear = (year: number): boolean => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/**
 * Whether the fields name a time the calendar has: month 1..12, a day that month has, hour 0..23,
 * minute 0..59, second 0..60 (RFC 3339's leap second, which Date.UTC reads as the next second).
 */
export function isCalendarTime(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  if (month < 1 || month > 12 || day < 1 || !isClockTime(hour, minute, second)) return false;
  return day <= (month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1]);
}

/** Whether the fields (whole numbers from 0) name a time of day: see isCalendarTime. */
export function isClockTime(hour: number, minute: number, second: number): boolean {
  return hour <= 23 && minute <= 59 && second <= 60;
}

/**
 * Seconds since the epoch of a UTC calendar time given as numbers (month 1..12). NaN for a time
 * the calendar does not have (month 13, 31 June, 25:00, a damaged line): Date.UTC would roll it
 * over into another, real time, and the line would be stamped with it instead of its event time
 * (every parser treats a NaN time as none: format.ts).
 */
export function utcSeconds(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  if (!isCalendarTime(year, month, day, hour, minute, second)) return NaN;
  // Date.UTC reads years 0..99 as 1900..1999; four centuries later the calendar repeats exactly.
  if (year >= 0 && year < 100) return (Date.UTC(year + 400, month - 1, day, hour, minute, second) - FOUR_CENTURIES_MS) / 1000;
  return Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * An ISO-8601 / RFC 3339 timestamp (S3 `eventTime`, EventBridge `time`, CloudTrail `eventTime`,
 * GuardDuty `updatedAt`) with any number of fraction digits; no zone means UTC. Undefined when
 * it is not one, or names a time outside what Loki can store (see MIN_ENTRY_SEC).
 */
export function parseIsoTimestamp(text: string): Timestamp | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  let sec = utcSeconds(+m[1], +m[2], +m[3], +m[4], +m[5], +m[6]);
  const zone = m[8];
  if (zone && zone !== "Z") sec -= zoneOffsetSeconds(zone);
  // Not a calendar time or zone (NaN); year 0000, or 9999-12-31 in a zone west of UTC: a time
  // Loki cannot store is no time.
  const nsec = fractionToNanos(m[7]);
  return isStorableTimestamp(sec, nsec) ? { sec, nsec } : undefined;
}

/** "+0530", "-08:00" -> seconds east of UTC; NaN for an offset no zone has ("+23:99", "+24:00"). */
export function zoneOffsetSeconds(zone: string): number {
  const digits = zone.replace(":", "");
  const sign = digits[0] === "-" ? -1 : 1;
  const hours = Number(digits.slice(1, 3));
  const minutes = Number(digits.slice(3, 5));
  return hours > 23 || minutes > 59 ? NaN : sign * (hours * 3600 + minutes * 60);
}

/**
 * Unix time whose unit is guessed from its digit count, like lambda-promtail does for WAF:
 * 10 digits are seconds, 13 milliseconds, 16 microseconds, 19 nanoseconds.
 */
export function fromUnixDigits(digits: string): Timestamp | undefined {
  if (!/^\d{1,19}$/.test(digits)) return undefined;
  if (digits.length <= 10) return { sec: Number(digits), nsec: 0 };
  return { sec: Number(digits.slice(0, 10)), nsec: fractionToNanos(digits.slice(10)) };
}
