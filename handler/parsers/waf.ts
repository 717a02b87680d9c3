/**
 * AWS WAF logs (`s3_waf`): one JSON object per line, shipped as is, stamped with its
 * `timestamp` (Unix milliseconds) read by a pattern rather than JSON.parse: the field is the
 * first of every record and WAF logs are large.
 *
 *   {"timestamp":1576280412771,"formatVersion":1,"webaclId":"arn:aws:wafv2:…","action":"ALLOW",…,"httpRequest":{"clientIp":"1.1.1.1",…,"requestId":"rid"}}
 *
 * Per-entry metadata: `waf_client_ip` (httpRequest.clientIp), `waf_request_id` (httpRequest.requestId).
 */
import type { LogEntry, Metadata } from "../types";
import { fallbackEntry, lineFormat, LogFormat, ParseOptions } from "./format";
import { fromUnixDigits } from "./time";

const TIMESTAMP = /"timestamp"\s*:\s*(\d+)/;
const CLIENT_IP = /"clientIp"\s*:\s*"([^"\\]*)"/;
const REQUEST_ID = /"requestId"\s*:\s*"([^"\\]*)"/;

function createWafParser(opts: ParseOptions) {
  const wantIp = opts.want.has("waf_client_ip");
  const wantId = opts.want.has("waf_request_id");
  return (line: string): LogEntry => {
    const m = TIMESTAMP.exec(line);
    const ts = m ? fromUnixDigits(m[1]) : undefined;
    const entry = ts ? { sec: ts.sec, nsec: ts.nsec, line } : fallbackEntry(line, opts.fallback);
    if (wantIp || wantId) {
      let metadata: Metadata | undefined;
      const ip = wantIp ? CLIENT_IP.exec(line)?.[1] : undefined;
      if (ip) (metadata ??= {}).waf_client_ip = ip;
      const id = wantId ? REQUEST_ID.exec(line)?.[1] : undefined;
      if (id) (metadata ??= {}).waf_request_id = id;
      if (metadata) entry.metadata = metadata;
    }
    return entry;
  };
}

export const wafFormat: LogFormat = { parse: lineFormat(createWafParser) };
