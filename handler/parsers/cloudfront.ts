/**
 * CloudFront standard (legacy) access logs (`s3_cloudfront`), W3C extended format, tab-separated:
 *
 *   #Version: 1.0
 *   #Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status …
 *   2019-12-04	21:02:31	LAX1	392	192.0.2.100	GET	d111111abcdef8.cloudfront.net	/index.html	200	…
 *
 * `#` lines are read, not shipped. The `#Fields` line says where `date`, `time` (UTC, whole
 * seconds) and the metadata fields are; the documented order is assumed until one is seen.
 * Per-entry metadata: `cloudfront_client_ip` (c-ip), `cloudfront_request_id` (x-edge-request-id).
 */
import type { LogEntry, Metadata } from "../types";
import { fallbackEntry, lineFormat, LogFormat, ParseOptions } from "./format";
import { utcSeconds } from "./time";

const DOCUMENTED_FIELDS = ["date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)", "cs-uri-stem", "sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query", "cs(Cookie)", "x-edge-result-type", "x-edge-request-id"];

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})$/;

interface Layout {
  date: number;
  time: number;
  clientIp: number;
  requestId: number;
}

function layoutOf(fields: string[]): Layout {
  return {
    date: fields.indexOf("date"),
    time: fields.indexOf("time"),
    clientIp: fields.indexOf("c-ip"),
    requestId: fields.indexOf("x-edge-request-id"),
  };
}

function createCloudFrontParser(opts: ParseOptions) {
  let layout = layoutOf(DOCUMENTED_FIELDS);
  const wantIp = opts.want.has("cloudfront_client_ip");
  const wantId = opts.want.has("cloudfront_request_id");

  return (line: string): LogEntry | undefined => {
    if (line.charCodeAt(0) === 35 /* # */) {
      if (line.startsWith("#Fields:")) layout = layoutOf(line.slice("#Fields:".length).trim().split(/\s+/));
      return undefined;
    }
    const values = line.split("\t");
    const d = DATE.exec(values[layout.date] ?? "");
    const t = TIME.exec(values[layout.time] ?? "");
    const entry = d && t
      ? { sec: utcSeconds(+d[1], +d[2], +d[3], +t[1], +t[2], +t[3]), nsec: 0, line }
      : fallbackEntry(line, opts.fallback);
    if (wantIp || wantId) {
      let metadata: Metadata | undefined;
      const ip = wantIp ? present(values[layout.clientIp]) : undefined;
      if (ip) (metadata ??= {}).cloudfront_client_ip = ip;
      const id = wantId ? present(values[layout.requestId]) : undefined;
      if (id) (metadata ??= {}).cloudfront_request_id = id;
      if (metadata) entry.metadata = metadata;
    }
    return entry;
  };
}

function present(value: string | undefined): string | undefined {
  return value === undefined || value === "" || value === "-" ? undefined : value;
}

export const cloudFrontFormat: LogFormat = { parse: lineFormat(createCloudFrontParser) };
