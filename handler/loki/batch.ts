/**
 * Groups labelled entries into Loki streams until a batch is big enough to push.
 *
 * The size of a batch is the size of the PushRequest it will encode to, before compression:
 * the UTF-8 bytes of lines, structured-metadata names and values and label strings, plus the
 * protobuf framing around them. BATCH_SIZE therefore bounds the request body Loki receives
 * (the Go lambda-promtail counted line bytes only, which lets many short lines overshoot it).
 */
import type { LogEntry, Metadata } from "../types";
import { timestampBodySize, varint32Size } from "./varint";

/** One Loki stream: a formatted label string such as `{a="x", b="y"}` and its entries. */
export interface Stream {
  labels: string;
  entries: LogEntry[];
}

/**
 * What the shipper and the extension need of a batch once it is encoded (encodeBatch): whom its
 * entries came from and its counts, for the report of its push; not the entries themselves.
 */
export interface BatchSummary {
  /** Distinct owners (source record indexes) of the entries, in first-seen order. */
  owners: number[];
  /** Number of entries over all streams. */
  entries: number;
  /** Encoded size of the PushRequest before compression: exact for entries, an upper bound by a few bytes per stream. */
  bytes: number;
  /** Timestamps, in Unix milliseconds, of the oldest and the newest entry: their ages when the push is acknowledged are the delivery lag. */
  oldestMs: number;
  newestMs: number;
}

/** What `Batcher.take()` hands over to be encoded: the streams and their summary. */
export interface PendingBatch extends BatchSummary {
  /** Streams in first-seen order; entries of each sorted by timestamp, ties kept in arrival order. */
  streams: Stream[];
}

/** A stream's own framing besides its label string; 5 bytes covers any stream length. */
const STREAM_FRAMING_BYTES = 1 + 5 + 1 + 3;

interface OpenStream {
  stream: Stream;
  /** Whether entries have arrived in timestamp order so far; then `take` needs no sort. */
  ordered: boolean;
  lastSec: number;
  lastNsec: number;
}

function byTimestamp(a: LogEntry, b: LogEntry): number {
  return a.sec - b.sec || a.nsec - b.nsec;
}

function lengthDelimitedSize(bytes: number): number {
  return 1 + varint32Size(bytes) + bytes;
}

/** Encoded size of a structured-metadata object: its name/value pairs as fields of an entry. */
function encodedMetadataSize(metadata: Metadata): number {
  let size = 0;
  for (const name in metadata) {
    const pair = lengthDelimitedSize(Buffer.byteLength(name, "utf8")) + lengthDelimitedSize(Buffer.byteLength(metadata[name], "utf8"));
    size += lengthDelimitedSize(pair);
  }
  return size;
}

/** Encoded size of one entry as an EntryAdapter field of its stream, given its metadata's size. */
function encodedEntrySize(entry: LogEntry, metadataSize: number): number {
  let body = lengthDelimitedSize(timestampBodySize(entry.sec, entry.nsec)) + metadataSize;
  if (entry.line.length > 0) body += lengthDelimitedSize(Buffer.byteLength(entry.line, "utf8"));
  return lengthDelimitedSize(body);
}

export class Batcher {
  private readonly maxBytes: number;
  private streams = new Map<string, OpenStream>();
  private owners = new Set<number>();
  private entryCount = 0;
  private byteCount = 0;
  private oldestMs = Infinity;
  private newestMs = -Infinity;
  /** The entries of a source group share one metadata object: its size is measured once. */
  private lastMetadata: Metadata | undefined;
  private lastMetadataSize = 0;

  constructor(maxBytes: number) {
    if (!(maxBytes > 0) || !Number.isFinite(maxBytes)) {
      throw new RangeError(`batch size must be a positive number of bytes, got ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
  }

  /**
   * Adds an entry to the stream with this label string; `owner` = index of the source record
   * it came from. Returns true when the batch has reached maxBytes and should be flushed.
   */
  add(labels: string, entry: LogEntry, owner: number): boolean {
    let open = this.streams.get(labels);
    if (open === undefined) {
      open = { stream: { labels, entries: [] }, ordered: true, lastSec: entry.sec, lastNsec: entry.nsec };
      this.streams.set(labels, open);
      this.byteCount += STREAM_FRAMING_BYTES + Buffer.byteLength(labels, "utf8");
    } else if (open.ordered && (entry.sec < open.lastSec || (entry.sec === open.lastSec && entry.nsec < open.lastNsec))) {
      open.ordered = false;
    }
    open.lastSec = entry.sec;
    open.lastNsec = entry.nsec;
    open.stream.entries.push(entry);
    this.owners.add(owner);
    this.entryCount++;
    const ms = entry.sec * 1000 + entry.nsec / 1e6;
    if (ms < this.oldestMs) this.oldestMs = ms;
    if (ms > this.newestMs) this.newestMs = ms;
    const metadata = entry.metadata;
    if (metadata !== undefined && metadata !== this.lastMetadata) {
      this.lastMetadata = metadata;
      this.lastMetadataSize = encodedMetadataSize(metadata);
    }
    this.byteCount += encodedEntrySize(entry, metadata === undefined ? 0 : this.lastMetadataSize);
    return this.byteCount >= this.maxBytes;
  }

  get isEmpty(): boolean {
    return this.entryCount === 0;
  }

  /** Entries batched so far. */
  get entries(): number {
    return this.entryCount;
  }

  /** Estimated encoded size of what is batched so far (see BatchSummary.bytes). */
  get bytes(): number {
    return this.byteCount;
  }

  /** Removes and returns everything batched so far. */
  take(): PendingBatch {
    const streams: Stream[] = [];
    for (const open of this.streams.values()) {
      // Array.prototype.sort is stable, so equal timestamps keep their arrival order.
      if (!open.ordered) open.stream.entries.sort(byTimestamp);
      streams.push(open.stream);
    }
    const batch: PendingBatch = {
      streams, owners: [...this.owners], entries: this.entryCount, bytes: this.byteCount, oldestMs: this.oldestMs, newestMs: this.newestMs,
    };
    this.streams = new Map();
    this.owners = new Set();
    this.entryCount = 0;
    this.byteCount = 0;
    this.oldestMs = Infinity;
    this.newestMs = -Infinity;
    return batch;
  }
}
