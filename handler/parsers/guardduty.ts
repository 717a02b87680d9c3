/**
 * GuardDuty findings exported to S3 (`s3_guardduty`): `.jsonl.gz`, one finding per line,
 * shipped as is. A finding is exported again each time it is updated, so the entry is stamped
 * with `updatedAt` (then `createdAt`): each update is its own entry, and a retried export
 * produces identical ones. lambda-promtail used the first ISO time anywhere in the finding,
 * which is often a resource's launch time.
 *
 * Per-entry metadata: `guardduty_finding_id` (id).
 */
import type { LogEntry } from "../types";
import { fallbackEntry, lineFormat, LogFormat, ParseOptions } from "./format";
import { parseIsoTimestamp } from "./time";

interface Finding {
  id?: unknown;
  updatedAt?: unknown;
  createdAt?: unknown;
}

function createGuardDutyParser(opts: ParseOptions) {
  const wantId = opts.want.has("guardduty_finding_id");
  return (line: string): LogEntry => {
    let finding: Finding | undefined;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === "object" && parsed !== null) finding = parsed as Finding;
    } catch {
      // Not JSON: still shipped, with the event time. Dropping it would lose data silently.
    }
    const time = [finding?.updatedAt, finding?.createdAt].find((v): v is string => typeof v === "string");
    const ts = time === undefined ? undefined : parseIsoTimestamp(time);
    const entry = ts ? { sec: ts.sec, nsec: ts.nsec, line } : fallbackEntry(line, opts.fallback);
    if (wantId && typeof finding?.id === "string" && finding.id !== "") entry.metadata = { guardduty_finding_id: finding.id };
    return entry;
  };
}

export const guardDutyFormat: LogFormat = { parse: lineFormat(createGuardDutyParser) };
