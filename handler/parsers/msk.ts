/**
 * Amazon MSK broker logs delivered to S3 (`s3_msk`): the brokers' log4j output, one object per
 * broker every few minutes, lines starting with the time in UTC:
 *
 *   [2025-07-04 11:57:55,836] INFO Kafka version: 4.0.0 (org.apache.kafka.common.utils.AppInfoParser)
 *   [2025-07-04 11:57:56,002] ERROR [ReplicaFetcher replicaId=1, leaderId=2, fetcherId=0] Error for partition orders-3 (kafka.server.ReplicaFetcherThread)
 *   org.apache.kafka.common.errors.NotLeaderOrFollowerException: …
 *   	at kafka.server.ReplicaManager.getPartitionOrException(ReplicaManager.scala:1204)
 *
 * A line without a leading time (a Java stack trace's continuation) is stamped with the time of
 * the line before it plus one nanosecond per continuation line: Loki then keeps the lines in
 * order, and keeps identical frames of a recursive trace, which it would drop as duplicates at
 * the same timestamp. Lines before the first timed one take the object's event time the same way.
 * Never the clock, so a retried object produces identical entries.
 */
import { isStorableTimestamp, LogEntry } from "../types";
import { lineFormat, LogFormat, ParseOptions } from "./format";
import { Timestamp, utcSeconds } from "./time";

const LEADING_TIME = /^\[(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}),(\d{3})\]/;

/** The time at the start of an MSK broker log line, or undefined. */
export function mskLineTime(line: string): Timestamp | undefined {
  const m = LEADING_TIME.exec(line);
  if (!m) return undefined;
  const sec = utcSeconds(+m[1], +m[2], +m[3], +m[4], +m[5], +m[6]);
  const nsec = +m[7] * 1_000_000;
  // A time Loki cannot store (year 0000) is no time: the line continues the one before it.
  return isStorableTimestamp(sec, nsec) ? { sec, nsec } : undefined;
}

function createMskParser(opts: ParseOptions) {
  let base: Timestamp | undefined;
  let continuation = 0;
  return (line: string): LogEntry => {
    const own = mskLineTime(line);
    if (own) {
      base = own;
      continuation = 0;
      return { sec: own.sec, nsec: own.nsec, line };
    }
    base ??= { sec: opts.fallback.sec, nsec: opts.fallback.nsec };
    continuation++;
    return { ...plusNanos(base, continuation), line };
  };
}

function plusNanos(t: Timestamp, n: number): Timestamp {
  const nsec = t.nsec + n;
  return nsec < 1e9 ? { sec: t.sec, nsec } : { sec: t.sec + Math.floor(nsec / 1e9), nsec: nsec % 1e9 };
}

export const mskFormat: LogFormat = { parse: lineFormat(createMskParser) };
