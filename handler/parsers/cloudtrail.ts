/**
 * CloudTrail log files (`s3_cloudtrail`), including CloudTrail Insights files: one JSON object
 * `{"Records":[{…},{…}]}`. The array is streamed record by record (stream-json), never loaded
 * whole, and each record is shipped as one compact JSON line stamped with its `eventTime`.
 * Digest files never reach this parser (see keys.ts).
 *
 * Per-entry metadata: `cloudtrail_event_id` (eventID).
 *
 * stream-json is loaded on first use so functions that never read CloudTrail do not pay for it.
 */
import { Readable, pipeline } from "node:stream";
import { BadRecordError, LogEntry } from "../types";
import { fallbackEntry, LogFormat, ParseOptions } from "./format";
import { parseIsoTimestamp } from "./time";

interface TrailRecord {
  eventTime?: unknown;
  eventID?: unknown;
}

/**
 * Records are handed on together (see LogFormat.parse) once their lines reach this size: about as
 * much text as one chunk of a line format, however large single records are.
 */
const BATCH_TEXT_LENGTH = 256 * 1024;

async function* parseCloudTrail(input: AsyncIterable<Uint8Array>, opts: ParseOptions): AsyncGenerator<LogEntry[]> {
  // An empty object holds no records; JSON-wise it is not even a document, but failing it would
  // only send it to the dead-letter queue for nothing.
  const bytes = await nonEmpty(input);
  if (!bytes) return;
  const [{ parser }, { pick }, { streamArray }] = await Promise.all([
    import("stream-json"),
    import("stream-json/filters/Pick"),
    import("stream-json/streamers/StreamArray"),
  ]);
  const records = streamArray();
  pipeline(Readable.from(bytes, { objectMode: false }), parser(), pick({ filter: "Records" }), records, () => undefined);
  const wantId = opts.want.has("cloudtrail_event_id");
  let batch: LogEntry[] = [];
  let batchLength = 0;
  try {
    for await (const item of records as AsyncIterable<{ value: unknown }>) {
      const entry = toEntry(item.value, opts, wantId);
      batch.push(entry);
      batchLength += entry.line.length;
      if (batchLength >= BATCH_TEXT_LENGTH) {
        yield batch;
        batch = [];
        batchLength = 0;
      }
    }
    if (batch.length > 0) yield batch;
  } catch (err) {
    // As for line formats, the records before the damage are handed out before the error.
    if (batch.length > 0) yield batch;
    throw isJsonError(err)
      ? new BadRecordError(`${opts.what}: not a valid CloudTrail log file (${(err as Error).message})`, { cause: err })
      : err;
  }
}

/** The same bytes, or undefined if there are none (reads at most up to the first non-empty chunk). */
async function nonEmpty(input: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array> | undefined> {
  const it = input[Symbol.asyncIterator]();
  for (;;) {
    const next = await it.next();
    if (next.done) return undefined;
    if (next.value.length === 0) continue;
    const first = next.value;
    return (async function* () {
      yield first;
      try {
        for (;;) {
          const more = await it.next();
          if (more.done) return;
          yield more.value;
        }
      } finally {
        await it.return?.(undefined);
      }
    })();
  }
}

function toEntry(value: unknown, opts: ParseOptions, wantId: boolean): LogEntry {
  const line = JSON.stringify(value);
  const record = (typeof value === "object" && value !== null ? value : {}) as TrailRecord;
  const ts = typeof record.eventTime === "string" ? parseIsoTimestamp(record.eventTime) : undefined;
  const entry = ts ? { sec: ts.sec, nsec: ts.nsec, line } : fallbackEntry(line, opts.fallback);
  if (wantId && typeof record.eventID === "string" && record.eventID !== "") entry.metadata = { cloudtrail_event_id: record.eventID };
  return entry;
}

/** stream-json's own errors (bad or truncated JSON, `Records` not an array), as opposed to read errors. */
function isJsonError(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof BadRecordError) return false;
  return err.message.startsWith("Parser ") || err.message.startsWith("Top-level object should be");
}

export const cloudTrailFormat: LogFormat = { parse: parseCloudTrail };
