/**
 * Elastic Load Balancing logs (`s3_lb`): one entry per line, stamped with the first ISO-8601
 * time on the line, which is each format's own record time:
 *
 *   ALB access      http 2018-07-02T22:23:00.186641Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 … "Root=1-58337262-…" …
 *   NLB access      tls 2.0 2018-12-20T02:59:40 net/my-nlb/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.154:51341 …   (no zone: UTC)
 *   CLB access      2015-05-13T23:39:43.945958Z my-lb 192.168.131.39:2817 10.0.0.1:80 …
 *   ALB connection  2023-10-04T17:03:56.431279Z 192.0.2.1 43235 443 TLSv1.2 …
 *   ALB health check: the record time is the first ISO time on the line as well.
 *
 * Microseconds are kept (nsec). A line without a time gets the fallback (event) time.
 * Per-entry metadata: `lb_client_ip` (all but health checks) and `lb_trace_id` (ALB access).
 */
import type { LogEntry, Metadata } from "../types";
import { nthField, stripPort, unquote } from "./fields";
import { fallbackEntry, lineFormat, LogFormat, ParseOptions } from "./format";
import type { LbVariant } from "./keys";
import { isClockTime, utcSeconds } from "./time";

/** The parts of a `YYYY-MM-DDTHH:MM:SS[.fraction]` time; `day` is YYYYMMDD as a number. */
export interface LineTime {
  day: number;
  secondOfDay: number;
  nsec: number;
}

const DASH = 0x2d;
const COLON = 0x3a;
const DOT = 0x2e;
const LETTER_T = 0x54;
/** `YYYY-MM-DDTHH:MM:SS` */
const TIME_LENGTH = 19;

/** The ASCII digit at `i` as a number, or -1 (also past the end, where charCodeAt is NaN). */
function digitAt(text: string, i: number): number {
  const d = text.charCodeAt(i) - 0x30;
  return d >= 0 && d <= 9 ? d : -1;
}

/** The two-digit number at `i`, or -1. */
function twoDigitsAt(text: string, i: number): number {
  const tens = digitAt(text, i);
  const ones = digitAt(text, i + 1);
  return tens < 0 || ones < 0 ? -1 : tens * 10 + ones;
}

/**
 * Seconds since midnight, or NaN for a clock the day does not have (25:00, 12:61): the line then
 * gets its event time (format.ts), as one with a month 13 does (utcSeconds).
 */
export function secondOfDay(hour: number, minute: number, second: number): number {
  return isClockTime(hour, minute, second) ? hour * 3600 + minute * 60 + second : NaN;
}

/**
 * The first `YYYY-MM-DDTHH:MM:SS[.fraction]` on the line, where the regular expression
 * /(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/ would find it (fraction
 * digits past the ninth are not part of it), read from the character codes: the regex and its
 * seven substrings per line were the load-balancer parser's largest cost.
 * tests/parsers-lb-time.test.ts compares the two on generated lines.
 */
export function findLineTime(line: string): LineTime | undefined {
  for (let i = 0; i + TIME_LENGTH <= line.length; i++) {
    // The separators first: they rule out almost every wrong start at once.
    if (line.charCodeAt(i + 4) !== DASH || line.charCodeAt(i + 7) !== DASH || line.charCodeAt(i + 10) !== LETTER_T
      || line.charCodeAt(i + 13) !== COLON || line.charCodeAt(i + 16) !== COLON) continue;
    const century = twoDigitsAt(line, i);
    const yearInCentury = twoDigitsAt(line, i + 2);
    const month = twoDigitsAt(line, i + 5);
    const dayOfMonth = twoDigitsAt(line, i + 8);
    const hour = twoDigitsAt(line, i + 11);
    const minute = twoDigitsAt(line, i + 14);
    const second = twoDigitsAt(line, i + 17);
    if (century < 0 || yearInCentury < 0 || month < 0 || dayOfMonth < 0 || hour < 0 || minute < 0 || second < 0) continue;
    let nsec = 0;
    let at = i + TIME_LENGTH;
    if (line.charCodeAt(at) === DOT && digitAt(line, at + 1) >= 0) {
      at++;
      let scale = 100_000_000;
      for (let d = digitAt(line, at); d >= 0 && scale >= 1; d = digitAt(line, ++at)) {
        nsec += d * scale;
        scale /= 10;
      }
    }
    return {
      day: (century * 100 + yearInCentury) * 10000 + month * 100 + dayOfMonth,
      secondOfDay: secondOfDay(hour, minute, second),
      nsec,
    };
  }
  return undefined;
}

/** Field index of the client address per file kind (0-based, quoted fields counted as one). */
const CLIENT_FIELD: Record<LbVariant, number | undefined> = {
  alb: 3,
  nlb: 5,
  clb: 2,
  alb_connection: 1,
  alb_health_check: undefined,
};
const ALB_TRACE_FIELD = 17;

function createLbParser(opts: ParseOptions) {
  const variant = opts.lbVariant ?? "alb";
  const clientField = opts.want.has("lb_client_ip") ? CLIENT_FIELD[variant] : undefined;
  const traceField = opts.want.has("lb_trace_id") && variant === "alb" ? ALB_TRACE_FIELD : undefined;
  // Every line of a file is from the same few minutes: remember the start of the last day seen
  // instead of calling Date.UTC per line.
  let lastDay = -1;
  let lastDaySec = 0;

  return (line: string): LogEntry => {
    const time = findLineTime(line);
    let entry: LogEntry;
    if (time) {
      if (time.day !== lastDay) {
        lastDay = time.day;
        lastDaySec = utcSeconds(Math.floor(time.day / 10000), Math.floor(time.day / 100) % 100, time.day % 100, 0, 0, 0);
      }
      entry = { sec: lastDaySec + time.secondOfDay, nsec: time.nsec, line };
    } else {
      entry = fallbackEntry(line, opts.fallback);
    }
    if (clientField !== undefined || traceField !== undefined) {
      let metadata: Metadata | undefined;
      const address = clientField === undefined ? undefined : nthField(line, clientField);
      // Connection logs have the port in a field of its own.
      const client = variant === "alb_connection" ? unquote(address) : stripPort(address);
      if (client) (metadata ??= {}).lb_client_ip = client;
      const trace = traceField === undefined ? undefined : unquote(nthField(line, traceField));
      if (trace) (metadata ??= {}).lb_trace_id = trace;
      if (metadata) entry.metadata = metadata;
    }
    return entry;
  };
}

export const lbFormat: LogFormat = { parse: lineFormat(createLbParser) };
