/**
 * S3 server access logs (`s3_access`), space-separated with quoted and bracketed fields:
 *
 *   79a59df9…2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df9…2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lz…= SigV4 …
 *
 * Stamped with the bracketed request time (whole seconds, any zone offset). In the simple key
 * form (`prefix/2019-02-06-00-00-38-<unique>`) the key does not name the source bucket, so
 * `__aws_s3_access` is taken from the bucket field of the first line: S3 writes one source
 * bucket per log object.
 *
 * Per-entry metadata: `s3_access_remote_ip`, `s3_access_request_id`.
 */
import type { Labels, LogEntry, Metadata } from "../types";
import { nthField } from "./fields";
import { fallbackEntry, lineFormat, LogFormat, ParseOptions } from "./format";
import type { KeyInfo } from "./keys";
import { utcSeconds, zoneOffsetSeconds } from "./time";

const TIME = /\[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]/;
const MONTHS: Record<string, number> = { Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12 };
const BUCKET_FIELD = 1;
const REMOTE_IP_FIELD = 3;
const REQUEST_ID_FIELD = 5;

function createAccessParser(opts: ParseOptions) {
  const wantIp = opts.want.has("s3_access_remote_ip");
  const wantId = opts.want.has("s3_access_request_id");
  return (line: string): LogEntry => {
    const m = TIME.exec(line);
    const month = m ? MONTHS[m[2]] : undefined;
    const entry = m && month
      ? { sec: utcSeconds(+m[3], month, +m[1], +m[4], +m[5], +m[6]) - zoneOffsetSeconds(m[7]), nsec: 0, line }
      : fallbackEntry(line, opts.fallback);
    if (wantIp || wantId) {
      let metadata: Metadata | undefined;
      const ip = wantIp ? present(nthField(line, REMOTE_IP_FIELD)) : undefined;
      if (ip) (metadata ??= {}).s3_access_remote_ip = ip;
      const id = wantId ? present(nthField(line, REQUEST_ID_FIELD)) : undefined;
      if (id) (metadata ??= {}).s3_access_request_id = id;
      if (metadata) entry.metadata = metadata;
    }
    return entry;
  };
}

function present(value: string | undefined): string | undefined {
  return value === undefined || value === "" || value === "-" ? undefined : value;
}

/** Fills `__aws_s3_access` from the first line when the key did not give it. */
function labelsFromFirstLine(line: string, info: KeyInfo): Labels {
  const label = `__aws_${info.logType}`;
  if (info.labels[label]) return info.labels;
  const bucket = present(nthField(line, BUCKET_FIELD));
  return bucket ? { ...info.labels, [label]: bucket } : info.labels;
}

export const s3AccessFormat: LogFormat = { parse: lineFormat(createAccessParser), labelsFromFirstLine };
