/**
 * The shapes every part of the shipper agrees on. Sources produce `RecordBatch`es, the label
 * pipeline turns base labels into final labels, the batcher groups `LogEntry`s into streams.
 */

/** A label set: label name -> value. Order never matters; use `labelKey` for identity. */
export type Labels = Record<string, string>;

/** Structured metadata attached to one entry, as Loki's `structuredMetadata` name/value pairs. */
export type Metadata = Record<string, string>;

/**
 * One log line. Timestamps are split in whole seconds and nanoseconds because that is what
 * Loki's protobuf `Timestamp` carries and because a JavaScript number cannot hold epoch
 * nanoseconds exactly.
 */
export interface LogEntry {
  /** Seconds since the Unix epoch (integer). */
  sec: number;
  /** Nanoseconds within that second, 0..999_999_999. */
  nsec: number;
  line: string;
  /** Structured metadata for this entry only; merged over the group's metadata. */
  metadata?: Metadata;
  /**
   * Set on the second, third, ... piece of a line longer than MAX_LINE_SIZE that an S3 object's
   * reader split as it read it (MAX_LINE_SIZE_ACTION=split): 1, 2, ...; the pipeline counts a
   * split line at its piece 1. Absent on every other entry.
   */
  piece?: number;
}

/**
 * A group of entries that share one base label set, produced by a source adapter.
 * `entries` may be a plain array (CloudWatch, Kinesis) or an async iterable of entry arrays
 * (an S3 object read as a stream, one array per chunk read), so memory stays bounded. Arrays
 * rather than single entries because a promise per entry costs more than parsing the line.
 */
export interface EntryGroup {
  /** Base labels from the source, before extra labels, drop labels and relabeling. */
  labels: Labels;
  /**
   * Candidate structured-metadata fields for every entry of the group (e.g. `log_stream`,
   * `owner`). Only the fields named in STRUCTURED_METADATA are attached.
   */
  metadata?: Metadata;
  entries: Iterable<LogEntry> | AsyncIterable<readonly LogEntry[]>;
}

/**
 * One record of the triggering event: the unit that succeeds or fails as a whole, and that
 * is reported back in `batchItemFailures` (SQS message id, Kinesis sequence number).
 * `groups` is produced lazily so that a bad record fails only when it is read.
 */
export interface SourceRecord {
  /** Identifier reported in `batchItemFailures`; undefined for sources without partial failure. */
  itemIdentifier?: string;
  /** Human-readable description used in error logs, e.g. `s3://bucket/key` or `kinesis shardId-0:4950…`. */
  describe: string;
  groups(): AsyncIterable<EntryGroup> | Iterable<EntryGroup>;
}

/**
 * Counters the sources keep for the invocation summary, beside the pipeline's own: created once
 * per invocation and shared by every record's reader.
 */
export interface SourceTally {
  /** S3 objects recognised as holding no log lines (CloudTrail digests, test files, folders). */
  skippedObjects: number;
}

export function newSourceTally(): SourceTally {
  return { skippedObjects: 0 };
}

/** The kinds of event the handler recognises. */
export type EventKind = "cloudwatch" | "kinesis" | "s3" | "sqs" | "sns" | "eventbridge";

/** Thrown for an event or record the shipper cannot read: reported, counted, routed to retry/DLQ. */
export class BadRecordError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BadRecordError";
  }
}

/**
 * The range of `google.protobuf.Timestamp`, into which Loki decodes every entry's timestamp:
 * 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. One timestamp outside it makes Loki
 * refuse the whole push as undecodable, so no entry outside it may reach a batch.
 */
export const MIN_ENTRY_SEC = -62_135_596_800;
export const MAX_ENTRY_SEC = 253_402_300_799;
export const ENTRY_TIME_RANGE = "0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z";

/** Whether Loki can store an entry with this timestamp (integers, nsec 0..999 999 999, within the range above). */
export function isStorableTimestamp(sec: number, nsec: number): boolean {
  return sec >= MIN_ENTRY_SEC && sec <= MAX_ENTRY_SEC && Number.isInteger(sec) && nsec >= 0 && nsec <= 999_999_999 && Number.isInteger(nsec);
}

/** A value from an event, for an error message: numbers as JavaScript prints them, anything else as (cut) JSON. */
export function describeValue(value: unknown): string {
  if (typeof value === "number") return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

/** fromMillis without the error: undefined when `ms` is not a time Loki can store. */
export function millisToTime(ms: unknown): { sec: number; nsec: number } | undefined {
  const entry = typeof ms === "number" ? entryAtMillis(ms, "") : undefined;
  return entry && { sec: entry.sec, nsec: entry.nsec };
}

/**
 * The entry of `line` at `ms` milliseconds since the epoch (the time millisToTime gives), or
 * undefined when Loki cannot store that time. One object per entry: a time object, then an entry
 * made from it, was a second allocation per log event (a megabyte of garbage per CloudWatch
 * payload of 24,000 events).
 */
export function entryAtMillis(ms: number, line: string): LogEntry | undefined {
  let sec = Math.floor(ms / 1000);
  let nsec = Math.round((ms - sec * 1000) * 1e6);
  // A fraction such as 999.9999999 ms rounds up to a whole second.
  if (nsec === 1_000_000_000) {
    sec++;
    nsec = 0;
  }
  return sec >= MIN_ENTRY_SEC && sec <= MAX_ENTRY_SEC ? { sec: sec + 0 /* no -0 */, nsec, line } : undefined;
}

/**
 * Milliseconds since the epoch (CloudWatch event timestamps, Kinesis arrival times) -> entry
 * timestamp. Throws a BadRecordError naming `what` and the value when it is not a number Loki
 * can store, so that only the record carrying it fails.
 */
export function fromMillis(ms: unknown, what = "timestamp"): { sec: number; nsec: number } {
  const time = millisToTime(ms);
  if (time !== undefined) return time;
  throw new BadRecordError(`${what} ${describeValue(ms)} is not a time Loki can store (milliseconds since the epoch from ${ENTRY_TIME_RANGE})`);
}

/**
 * The logger every module writes through: JSON lines with a level (Powertools Logger in the
 * Lambda, a quiet or capturing logger in tests). Attributes become JSON fields.
 */
export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** How much time the invocation has left; the Loki client never retries past it. */
export interface Deadline {
  remainingMs(): number;
  /** Aborted when nothing may wait any longer (the invocation's cutoff, see deadline.ts); absent: only `remainingMs` bounds waits. */
  readonly signal?: AbortSignal;
}

/**
 * Whether Node can send `value` in an HTTP header: no line break or other control character but
 * tab, nothing beyond Latin-1 (Node's own check). A bearer token goes into the Authorization header
 * as it is; one Node refuses to send made every push throw (a secret stored with a trailing
 * newline, e.g. created from a file).
 */
export function isSendableInHeader(value: string): boolean {
  return !/[^\t\x20-\x7e\x80-\xff]/.test(value);
}

/** Why a bearer token is refused (see isSendableInHeader). */
export const UNSENDABLE_BEARER_TOKEN = "holds a character an HTTP header cannot carry (a line break or another control character, or one beyond Latin-1): every push would fail";
