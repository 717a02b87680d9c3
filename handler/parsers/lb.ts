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
import { fractionToNanos, utcSeconds } from "./time";

const TIME = /(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/;

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
  let lastDay = "";
  let lastDaySec = 0;

  return (line: string): LogEntry => {
    const m = TIME.exec(line);
    let entry: LogEntry;
    if (m) {
      const day = m[1] + m[2] + m[3];
      if (day !== lastDay) {
        lastDay = day;
        lastDaySec = utcSeconds(+m[1], +m[2], +m[3], 0, 0, 0);
      }
      entry = { sec: lastDaySec + +m[4] * 3600 + +m[5] * 60 + +m[6], nsec: fractionToNanos(m[7]), line };
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
