/**
 * What every S3 log format module provides, and the helper that turns a per-line parser into
 * a stream parser. Parsers are pure: plain bytes in, entries out, no S3, no clock.
 */
import { isStorableTimestamp, Labels, LogEntry } from "../types";
import type { KeyInfo, LbVariant } from "./keys";
import { LinePiece, splitLines, splitLinesInPieces } from "./lines";
import type { Timestamp } from "./time";

export interface ParseOptions {
  /** Timestamp for a line that has none of its own: the S3 event time, never the clock. */
  fallback: Timestamp;
  /** Structured-metadata fields the user asked for; per-entry fields not in it are not computed. */
  want: ReadonlySet<string>;
  /** `s3://bucket/key`, for error messages. */
  what: string;
  lbVariant?: LbVariant;
  /** MAX_LINE_SIZE: at most this (+1 byte) of one line is held; Loki's 256 KB when not given. */
  maxLineBytes?: number;
  /** MAX_LINE_SIZE_ACTION=split: a longer line is handed out in pieces of at most maxLineBytes as it is read. */
  splitLongLines?: boolean;
}

export interface LogFormat {
  /**
   * Decompressed object bytes -> entries, lazily, in bounded memory, in arrays (one per chunk
   * of input, never empty) because a promise per entry costs more than parsing a line.
   */
  parse(input: AsyncIterable<Uint8Array>, opts: ParseOptions): AsyncIterable<LogEntry[]>;
  /** Labels the key cannot give, taken from the first entry (S3 access logs in the simple key form). */
  labelsFromFirstLine?(line: string, info: KeyInfo): Labels;
}

/**
 * Parses one line into an entry, or returns undefined for a line that is not a log record
 * (header, comment). Created per object, so it may keep state (a `#Fields` header).
 */
export type LineParser = (line: string) => LogEntry | undefined;

export function lineFormat(create: (opts: ParseOptions) => LineParser): LogFormat["parse"] {
  return async function* parseLines(input, opts) {
    const parseLine = create(opts);
    if (opts.splitLongLines) {
      yield* parsePieces(splitLinesInPieces(input, opts.maxLineBytes), (line) => storable(parseLine(line), opts.fallback));
      return;
    }
    for await (const lines of splitLines(input, opts.maxLineBytes)) {
      const entries: LogEntry[] = [];
      for (const line of lines) {
        const entry = storable(parseLine(line), opts.fallback);
        if (entry) entries.push(entry);
      }
      if (entries.length > 0) yield entries;
    }
  };
}

/**
 * MAX_LINE_SIZE_ACTION=split: the first piece of a long line is parsed as the line (its time is
 * at its start); each further piece becomes an entry of its own with the first piece's timestamp
 * and metadata, in order. Pieces of a line that is not a log record (a header) are left out too.
 */
async function* parsePieces(lines: AsyncIterable<(string | LinePiece)[]>, parseLine: LineParser): AsyncGenerator<LogEntry[]> {
  let head: LogEntry | undefined;
  for await (const batch of lines) {
    const entries: LogEntry[] = [];
    for (const line of batch) {
      if (typeof line === "string") {
        head = parseLine(line);
        if (head) entries.push(head);
      } else if (head) {
        entries.push({ sec: head.sec, nsec: head.nsec, line: line.text, metadata: head.metadata, piece: line.index });
      }
    }
    if (entries.length > 0) yield entries;
  }
}

/**
 * A line's own time that Loki cannot store (year 0000 in a damaged or hand-made file, a VPC flow
 * `start` of 12 digits) counts as no time: the entry gets the fallback (event) time, as a line
 * without a time does. Left as it was, one such line failed its whole object (Loki refuses a
 * push holding it), and every retry of the object failed the same way until the dead-letter queue.
 */
function storable(entry: LogEntry | undefined, fallback: Timestamp): LogEntry | undefined {
  if (entry === undefined || isStorableTimestamp(entry.sec, entry.nsec)) return entry;
  entry.sec = fallback.sec;
  entry.nsec = fallback.nsec;
  return entry;
}

/** An entry stamped with the fallback time (copied: entries are mutated downstream). */
export function fallbackEntry(line: string, fallback: Timestamp): LogEntry {
  return { sec: fallback.sec, nsec: fallback.nsec, line };
}
