/**
 * One S3 log object -> entry groups: key -> format and labels, GetObject, streaming
 * decompression, line splitting and parsing, all lazy. The group's entries are read only as
 * the pipeline pulls them, so pushing to Loki paces the download (backpressure) and memory
 * stays bounded whatever the object size.
 *
 * Shared by the S3, SQS, SNS and EventBridge adapters, and usable on local bytes for replay.
 */
import { decompress } from "../parsers/decompress";
import { classifyKey, FORMATS, KeyInfo, notALogFile } from "../parsers/index";
import { parseIsoTimestamp, Timestamp } from "../parsers/time";
import { BadRecordError, EntryGroup, Log, LogEntry, SourceTally } from "../types";
import type { InvocationDeadline } from "../deadline";
import type { SourceContext } from "./context";
import type { S3ObjectRef } from "./s3-notification";
import { ObjectOpener, openS3Object, S3ReadError } from "./s3-object";

/**
 * What GetObject answers for a key that does not exist: NoSuchKey, or AccessDenied when the role
 * may not s3:ListBucket the bucket, as the role this program deploys (s3:GetObject and s3:GetObjectVersion, not s3:ListBucket).
 */
const MISSING_OBJECT_CODES: ReadonlySet<string> = new Set(["NoSuchKey", "AccessDenied"]);

export interface ObjectReadOptions {
  /** STRUCTURED_METADATA: per-entry fields outside it are not computed. */
  want: ReadonlySet<string>;
  log: Log;
  /** Bounds GetObject and the reading of the body. */
  deadline: InvocationDeadline;
  /** GetObject; replaced in unit tests. */
  open?: ObjectOpener;
  /** Counts skipped objects for the invocation summary. */
  tally?: SourceTally;
  /** MAX_LINE_SIZE: the most of one line held while reading. */
  maxLineBytes?: number;
  /** MAX_LINE_SIZE_ACTION=split: longer lines are read out in pieces. */
  splitLongLines?: boolean;
}

export function readOptions(ctx: SourceContext, open?: ObjectOpener): ObjectReadOptions {
  return { want: new Set(ctx.config.structuredMetadata), log: ctx.log, deadline: ctx.deadline, open, tally: ctx.tally, maxLineBytes: ctx.config.maxLineSize, splitLongLines: ctx.config.maxLineSizeAction === "split" };
}

/**
 * Groups of every object the record announces, in order. `refs` runs on first read, so a
 * malformed message fails when (and only where) it is read; a failing object fails its record.
 */
export async function* refsGroups(refs: () => readonly S3ObjectRef[], opts: ObjectReadOptions): AsyncGenerator<EntryGroup> {
  for (const ref of refs()) yield* objectGroups(ref, opts);
}

export async function* objectGroups(ref: S3ObjectRef, opts: ObjectReadOptions): AsyncGenerator<EntryGroup> {
  const what = `s3://${ref.bucket}/${ref.key}`;
  const skipReason = notALogFile(ref.key);
  const info = skipReason === undefined ? classifyKey(ref.key, what) : undefined;
  if (!info || info.skipReason) {
    // Not an error: the record succeeds. At info level so that an operator wondering where an
    // object went finds it without turning on debug logs.
    opts.log.info("skipping S3 object: it holds no log lines", { object: what, reason: skipReason ?? info?.skipReason });
    if (opts.tally) opts.tally.skippedObjects++;
    return;
  }
  opts.log.debug("reading S3 object", { object: what, logType: info.logType });
  const open = opts.open ?? openS3Object;
  let key = ref.key;
  let opened;
  try {
    opened = await open(ref, opts.deadline);
  } catch (err) {
    if (ref.alternateKey === undefined || !(err instanceof S3ReadError && MISSING_OBJECT_CODES.has(err.code ?? ""))) throw err;
    key = ref.alternateKey;
    try {
      opened = await open({ ...ref, key }, opts.deadline);
    } catch (second) {
      if (!(second instanceof S3ReadError)) throw second;
      throw new S3ReadError(`${err.message}; the form-decoded key ${JSON.stringify(key)} was tried too: ${second.message}`, second.code, { cause: second });
    }
  }
  const fallback = parseTime(ref.eventTime) ?? fromDate(opened.lastModified);
  yield* bytesGroups(opened.body, { bucket: ref.bucket, key, info, fallback, want: opts.want, maxLineBytes: opts.maxLineBytes, splitLongLines: opts.splitLongLines });
}

export interface BytesSource {
  bucket: string;
  key: string;
  info: KeyInfo;
  /** Timestamp for lines without one; undefined only fails if such a line is met. */
  fallback: Timestamp | undefined;
  want: ReadonlySet<string>;
  maxLineBytes?: number;
  splitLongLines?: boolean;
}

/**
 * Object bytes (compressed or not) -> one entry group. Exposed for local replay of a file with
 * the key it would have (`classifyKey` gives `info`).
 */
export async function* bytesGroups(body: AsyncIterable<Uint8Array>, source: BytesSource): AsyncGenerator<EntryGroup> {
  const what = `s3://${source.bucket}/${source.key}`;
  const format = FORMATS[source.info.format];
  const entries = format.parse(decompress(body, what), {
    fallback: source.fallback ?? missingFallback(what),
    want: source.want,
    what,
    lbVariant: source.info.lbVariant,
    maxLineBytes: source.maxLineBytes,
    splitLongLines: source.splitLongLines,
  });
  const iterator = entries[Symbol.asyncIterator]();
  try {
    let labels = source.info.labels;
    let first: LogEntry[] | undefined;
    if (format.labelsFromFirstLine) {
      const next = await iterator.next();
      if (next.done) return;
      first = next.value;
      labels = format.labelsFromFirstLine(first[0].line, source.info);
    }
    yield {
      labels,
      metadata: { s3_bucket: source.bucket, s3_key: source.key },
      entries: first ? prepend(first, iterator) : { [Symbol.asyncIterator]: () => iterator },
    };
  } finally {
    // Stops the download if the consumer left before the end (error, Loki down).
    await iterator.return?.(undefined);
  }
}

/**
 * A local file read as if it were the S3 object `key` (replay, demo): typed, labeled and stamped
 * exactly as the object would be, without S3. Unknown keys throw the same BadRecordError.
 * `eventTime` stands in for the notification's time (lines without a time of their own).
 */
export function localObjectGroups(
  body: AsyncIterable<Uint8Array>,
  key: string,
  opts: { bucket?: string; eventTime?: string; want?: ReadonlySet<string> } = {},
): AsyncGenerator<EntryGroup> {
  const bucket = opts.bucket ?? "local";
  if (notALogFile(key) !== undefined) return (async function* () {})();
  const info = classifyKey(key, `s3://${bucket}/${key}`);
  if (info.skipReason) return (async function* () {})();
  return bytesGroups(body, { bucket, key, info, fallback: parseTime(opts.eventTime), want: opts.want ?? new Set() });
}

async function* prepend(first: LogEntry[], rest: AsyncIterator<LogEntry[]>): AsyncGenerator<LogEntry[]> {
  yield first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

function parseTime(text: string | undefined): Timestamp | undefined {
  return text === undefined ? undefined : parseIsoTimestamp(text);
}

function fromDate(date: Date | undefined): Timestamp | undefined {
  if (!date || Number.isNaN(date.getTime())) return undefined;
  const ms = date.getTime();
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: (ms - sec * 1000) * 1_000_000 };
}

/**
 * Neither the event nor the object gave a time. Rather than stamping with the clock (which
 * would duplicate entries on retry), a line without its own time then fails the record.
 */
function missingFallback(what: string): Timestamp {
  const fail = (): never => {
    throw new BadRecordError(`${what}: a line has no timestamp and the event carries no event time to use instead`);
  };
  return {
    get sec(): number {
      return fail();
    },
    get nsec(): number {
      return fail();
    },
  };
}
