/**
 * Writes Loki's `logproto.PushRequest` (see push.proto) and compresses it with Snappy (snappy.ts).
 *
 * This is the hot path of the shipper: every byte of every line goes through it. The
 * message is written straight into one reused protobufjs `Writer`: an entry's framing, timestamp
 * and line byte by byte into its buffer after one capacity check per entry, the rarer parts
 * (times outside 1970-2106) through its methods; metadata pairs are written like entries.
 * Strings are the exception: protobufjs measures a long string's UTF-8 length first and
 * then encodes it, i.e. two passes over every line. Here a string is encoded once, directly
 * behind a length prefix whose size is guessed from the UTF-16 length (exact for ASCII, the
 * common case); the bytes are moved only when a multi-byte line needs a longer prefix.
 * Entries and streams get the same treatment: their length prefix is sized from the line
 * lengths up front and the body written once behind it.
 * bench/encode.ts measures this against plain protobufjs; tests/loki-encode.test.ts checks
 * that the output is byte-identical to protobufjs's reflection encoder for push.proto.
 */
import { Writer } from "protobufjs/minimal";
import type { LogEntry, Metadata } from "../types";
import type { BatchSummary, PendingBatch, Stream } from "./batch";
import { countEntries } from "./split";
import { snappyCompressor } from "./snappy";
import { timestampBodySize, varint32Size } from "./varint";

// Wire tags: (field number << 3) | wire type. Wire type 0 = varint, 2 = length-delimited.
const PUSH_REQUEST_STREAMS = (1 << 3) | 2;
const STREAM_LABELS = (1 << 3) | 2;
const STREAM_ENTRIES = (2 << 3) | 2;
const ENTRY_TIMESTAMP = (1 << 3) | 2;
const ENTRY_LINE = (2 << 3) | 2;
const ENTRY_STRUCTURED_METADATA = (3 << 3) | 2;
const TIMESTAMP_SECONDS = (1 << 3) | 0;
const TIMESTAMP_NANOS = (2 << 3) | 0;
const LABEL_PAIR_NAME = (1 << 3) | 2;
const LABEL_PAIR_VALUE = (2 << 3) | 2;

/** Below this many UTF-16 units a JavaScript loop beats the native call for ASCII strings. */
const SHORT_STRING = 32;
/** A writer buffer grown beyond this by one huge batch is dropped rather than kept for the process lifetime. */
const MAX_RETAINED_BUFFER = 16 * 1024 * 1024;

/** Node's Buffer has a native UTF-8 writer without `write()`'s argument juggling; typings omit it. */
interface NodeUtf8Buffer extends Buffer {
  utf8Write(text: string, offset: number, length?: number): number;
}

/**
 * The reused writer. Encoding is synchronous, so one writer per process is enough; its
 * buffer grows to the largest batch and is then reused without further allocation.
 */
let writer: Writer = Writer.create();

function ensureCapacity(w: Writer, bytes: number): NodeUtf8Buffer {
  const needed = w.pos + bytes;
  if (needed > w.buf.length) {
    const grown = Buffer.allocUnsafe(Math.max(needed, w.buf.length * 2));
    grown.set(w.buf.subarray(0, w.pos));
    w.buf = grown;
    w.view = null;
  }
  return w.buf as NodeUtf8Buffer;
}

function writeVarint32At(buf: Uint8Array, pos: number, value: number): number {
  while (value > 0x7f) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[pos++] = value;
  return pos;
}

/** Writes `tag`, the UTF-8 byte length of `text` and its bytes, encoding `text` only once. */
function writeStringField(w: Writer, tag: number, text: string): void {
  // A UTF-16 unit never takes more than 3 UTF-8 bytes (a surrogate pair takes 4 for 2 units).
  const buf = ensureCapacity(w, 1 + 5 + 3 * text.length);
  w.pos = writeStringFieldAt(buf, w.pos, tag, text);
}

/**
 * writeStringField at `pos` of `buf`, which has room for 1 + 5 + 3 x `text.length` bytes there;
 * returns the position after the field. The length prefix is sized from the UTF-16 length (exact
 * for ASCII, the common case); the bytes move only when a multi-byte text needs a longer one.
 */
function writeStringFieldAt(buf: NodeUtf8Buffer, pos: number, tag: number, text: string): number {
  const units = text.length;
  buf[pos++] = tag;
  const guessedPrefix = varint32Size(units);
  const start = pos + guessedPrefix;
  let length = -1;
  if (units < SHORT_STRING) {
    let p = start;
    for (let i = 0; i < units; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        p = -1;
        break;
      }
      buf[p++] = code;
    }
    if (p >= 0) length = p - start;
  }
  if (length < 0) length = buf.utf8Write(text, start);
  const prefix = varint32Size(length);
  // UTF-8 is never shorter than the UTF-16 unit count, so the prefix can only grow.
  if (prefix !== guessedPrefix) buf.copyWithin(pos + prefix, start, start + length);
  return writeVarint32At(buf, pos, length) + length;
}

/** int64 holds [-2^63, 2^63); every JavaScript integer in that range is exact there. */
const INT64_LIMIT = 2 ** 63;

function writeTimestamp(w: Writer, sec: number, nsec: number): void {
  // Anything else would be written as varints whose size disagrees with the length prefix
  // reserved for them (or truncated to 64 bits): a body no decoder accepts, or a wrong time.
  if (!(sec >= -INT64_LIMIT && sec < INT64_LIMIT && Number.isInteger(sec) && nsec >= 0 && nsec <= 999_999_999 && Number.isInteger(nsec))) {
    throw new RangeError(`cannot encode the timestamp ${sec} s + ${nsec} ns: seconds must be an int64 integer and nanoseconds an integer from 0 to 999999999`);
  }
  // proto3 leaves zero fields out, as Go's marshaller (and protobufjs) do.
  w.uint32(ENTRY_TIMESTAMP).uint32(timestampBodySize(sec, nsec));
  if (sec !== 0) {
    w.uint32(TIMESTAMP_SECONDS);
    // Until 2106 the seconds fit in 32 bits, whose varint is the int64 varint without
    // protobufjs's LongBits allocation.
    if (sec > 0 && sec <= 0xffffffff) w.uint32(sec);
    else w.int64(sec);
  }
  if (nsec !== 0) w.uint32(TIMESTAMP_NANOS).uint32(nsec);
}

/**
 * Writes the metadata's name/value pairs sorted by name. Names usually come sorted (sources and
 * stages build them in order): the pairs are written as the names are enumerated, and only a
 * name out of order sends them back to be written from a sorted copy. A structured_metadata
 * stage gives every entry an object of its own, so this runs per entry: it allocates nothing.
 */
function writeStructuredMetadata(w: Writer, metadata: Metadata): void {
  const start = w.pos;
  let previous: string | undefined;
  for (const name in metadata) {
    if (previous !== undefined && name < previous) {
      w.pos = start;
      for (const sorted of Object.keys(metadata).sort()) writeMetadataPair(w, sorted, metadata[sorted]);
      return;
    }
    writeMetadataPair(w, name, metadata[name]);
    previous = name;
  }
}

/** A LabelPairAdapter field (empty name or value left out, as proto3 does), written like an entry: its body straight behind a guessed length prefix. */
function writeMetadataPair(w: Writer, name: string, value: string): void {
  // Tag and prefix of the pair, then of each field, and at most 3 UTF-8 bytes per UTF-16 unit.
  const buf = ensureCapacity(w, 3 * (1 + 5) + 3 * (name.length + value.length));
  let pos = w.pos;
  buf[pos++] = ENTRY_STRUCTURED_METADATA;
  const prefixAt = pos;
  // Exact for ASCII fields shorter than 128 bytes: a tag and a one-byte length each.
  const expectedBytes = name.length + value.length + 4;
  pos += varint32Size(expectedBytes);
  if (name.length > 0) pos = writeStringFieldAt(buf, pos, LABEL_PAIR_NAME, name);
  if (value.length > 0) pos = writeStringFieldAt(buf, pos, LABEL_PAIR_VALUE, value);
  w.pos = pos;
  endDelimited(w, prefixAt, expectedBytes);
}

/**
 * Starts a length-delimited field whose body is expected to take about `expectedBytes`:
 * writes the tag and leaves room for the length prefix that size needs. Returns the
 * prefix position for `endDelimited`. (protobufjs's `fork` always leaves one byte, so any
 * entry over 127 bytes, i.e. most log lines, would be moved once more.)
 */
function beginDelimited(w: Writer, tag: number, expectedBytes: number): number {
  const buf = ensureCapacity(w, 6);
  buf[w.pos++] = tag;
  const prefixAt = w.pos;
  w.pos += varint32Size(expectedBytes);
  return prefixAt;
}

/**
 * Writes the length prefix of the field begun at `prefixAt`, moving its body if the guess was
 * off. Returns how far the body moved (0 in the common case).
 */
function endDelimited(w: Writer, prefixAt: number, expectedBytes: number): number {
  const reserved = varint32Size(expectedBytes);
  const bodyAt = prefixAt + reserved;
  const length = w.pos - bodyAt;
  const needed = varint32Size(length);
  let buf = w.buf;
  if (needed !== reserved) {
    buf = ensureCapacity(w, needed - reserved);
    buf.copyWithin(prefixAt + needed, bodyAt, w.pos);
    w.pos += needed - reserved;
  }
  writeVarint32At(buf, prefixAt, length);
  return needed - reserved;
}

/** Rough framing of an entry besides its line: timestamp, tags, lengths, a little metadata. */
const ENTRY_FRAMING_GUESS = 32;

/**
 * The entries of one source group usually share one metadata object (STRUCTURED_METADATA of the
 * log stream, the object key, ...): it is encoded once per stream and its bytes copied after.
 */
interface MetadataBytes {
  metadata: Metadata | undefined;
  start: number;
  end: number;
}

function writeMetadata(w: Writer, metadata: Metadata, last: MetadataBytes): boolean {
  if (metadata === last.metadata) {
    const size = last.end - last.start;
    const buf = ensureCapacity(w, size);
    buf.copyWithin(w.pos, last.start, last.end);
    w.pos += size;
    return false;
  }
  last.start = w.pos;
  writeStructuredMetadata(w, metadata);
  last.metadata = metadata;
  last.end = w.pos;
  return true;
}

/**
 * Writes the Timestamp field of an entry at `pos` (room reserved by the caller) and returns the
 * position after it. Written byte by byte rather than through the Writer: three calls per entry,
 * each reserving room, cost more than the bytes (a quarter of the encoder's time on CloudWatch
 * lines).
 */
function writeTimestampAt(w: Writer, buf: Uint8Array, pos: number, sec: number, nsec: number): number {
  if (!(sec > 0 && sec <= 0xffffffff && Number.isInteger(sec) && nsec >= 0 && nsec <= 999_999_999 && Number.isInteger(nsec))) {
    // Before 1970, at 0 or after 2106 (rare): writeTimestamp writes the int64 varint, or throws
    // for a time no Timestamp holds.
    w.pos = pos;
    writeTimestamp(w, sec, nsec);
    return w.pos;
  }
  buf[pos++] = ENTRY_TIMESTAMP;
  // Until 2106 the seconds fit in 32 bits, whose varint is the int64 varint. proto3 leaves a
  // zero nanos field out, as Go's marshaller (and protobufjs) do.
  buf[pos++] = 1 + varint32Size(sec) + (nsec !== 0 ? 1 + varint32Size(nsec) : 0);
  buf[pos++] = TIMESTAMP_SECONDS;
  pos = writeVarint32At(buf, pos, sec);
  if (nsec !== 0) {
    buf[pos++] = TIMESTAMP_NANOS;
    pos = writeVarint32At(buf, pos, nsec);
  }
  return pos;
}

/** The most bytes an entry's framing takes besides its line and metadata: tag and prefix of the entry, the timestamp field, tag and prefix of the line. */
const ENTRY_FRAMING_MAX = 1 + 5 + 2 + 1 + 10 + 1 + 5 + 1 + 5;

/**
 * Writes one EntryAdapter field: room for its length prefix sized from the line's UTF-16 length
 * and a typical framing (right unless the body's varint size differs from the guess's: multi-byte
 * lines, bodies next to 128 or 16,384 bytes), the timestamp, the line encoded once into its place,
 * the metadata; the body moves only when the guess was off.
 */
function writeEntry(w: Writer, entry: LogEntry, last: MetadataBytes): void {
  const line = entry.line;
  const units = line.length;
  // A UTF-16 unit never takes more than 3 UTF-8 bytes (a surrogate pair takes 4 for 2 units).
  const buf = ensureCapacity(w, ENTRY_FRAMING_MAX + 3 * units);
  let pos = w.pos;
  buf[pos++] = STREAM_ENTRIES;
  const entryPrefixAt = pos;
  const expectedEntryBytes = units + ENTRY_FRAMING_GUESS;
  const entryBodyAt = pos + varint32Size(expectedEntryBytes);
  pos = writeTimestampAt(w, buf, entryBodyAt, entry.sec, entry.nsec);
  if (units > 0) pos = writeStringFieldAt(buf, pos, ENTRY_LINE, line);
  w.pos = pos;
  const wroteMetadata = entry.metadata !== undefined && writeMetadata(w, entry.metadata, last);
  const moved = endDelimited(w, entryPrefixAt, expectedEntryBytes);
  if (wroteMetadata) {
    // The bytes just written moved with their entry's body.
    last.start += moved;
    last.end += moved;
  }
}

function writePushRequest(w: Writer, streams: readonly Stream[]): void {
  const last: MetadataBytes = { metadata: undefined, start: 0, end: 0 };
  for (const stream of streams) {
    const entries = stream.entries;
    let expectedStreamBytes = stream.labels.length + 2;
    for (let i = 0; i < entries.length; i++) expectedStreamBytes += entries[i].line.length + ENTRY_FRAMING_GUESS;
    const streamAt = beginDelimited(w, PUSH_REQUEST_STREAMS, expectedStreamBytes);
    if (stream.labels.length > 0) writeStringField(w, STREAM_LABELS, stream.labels);
    for (let i = 0; i < entries.length; i++) writeEntry(w, entries[i], last);
    // Moving a whole stream would move the cached bytes too; start afresh instead.
    endDelimited(w, streamAt, expectedStreamBytes);
    last.metadata = undefined;
  }
}

/**
 * Runs `use` on the encoded request while it still lives in the shared writer buffer, so
 * that a caller who consumes it at once (compression) saves a copy. `use` must not keep it.
 */
function withEncoded<T>(streams: readonly Stream[], use: (encoded: Buffer) => T): T {
  const w = writer;
  w.pos = 0;
  w.states = null;
  try {
    writePushRequest(w, streams);
  } catch (error) {
    writer = Writer.create(); // a half-written message may have left fork states behind
    throw error;
  }
  const encoded = w.buf.subarray(0, w.pos) as Buffer;
  const result = use(encoded);
  if (w.buf.length > MAX_RETAINED_BUFFER) writer = Writer.create();
  return result;
}

/**
 * Encodes `streams` as a `logproto.PushRequest`. Entries are written in the order given
 * (the batcher sorts them). Throws a RangeError for a timestamp it cannot encode (seconds
 * outside int64 or not integers, nanoseconds outside 0..999 999 999).
 */
export function encodePushRequest(streams: readonly Stream[]): Uint8Array {
  return withEncoded(streams, (encoded) => Buffer.from(encoded));
}

/** Snappy *block* format (not the framed format), which is what Loki's push endpoint reads. */
export function compress(buf: Uint8Array): Uint8Array {
  const input = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return snappyCompressor().compress(input);
}

/** The body of a push request: the encoded PushRequest, snappy-compressed. */
export function encodeAndCompress(streams: readonly Stream[]): Uint8Array {
  return withEncoded(streams, compress);
}

/**
 * A push ready to be sent, and all a push keeps while it is in flight: its body and the number
 * of entries in it (what the client reports by). Its entries are not kept: a batch's lines would
 * otherwise stay in memory twice, as strings and compressed, until Loki answers (with pushes in
 * flight while the next batch is read, that decided whether the largest Kinesis batch fits a
 * 128 MB function). A body Loki answers 413 is decoded again (decode.ts) to be split.
 */
export interface EncodedPush {
  /** The snappy-compressed PushRequest (encodeAndCompress). */
  body: Uint8Array;
  entries: number;
}

/** A batch as the shipper and the extension keep it once encoded: its push and its summary. */
export interface EncodedBatch extends EncodedPush, BatchSummary {}

/** The push of `streams`. */
export function encodePush(streams: readonly Stream[]): EncodedPush {
  return { body: encodeAndCompress(streams), entries: countEntries(streams) };
}

/**
 * The one place that decides what a batch keeps once it is encoded: its body and its summary,
 * not its streams (see EncodedPush). Throws as encodeAndCompress does.
 */
export function encodeBatch(batch: PendingBatch): EncodedBatch {
  return {
    body: encodeAndCompress(batch.streams),
    entries: batch.entries,
    owners: batch.owners,
    bytes: batch.bytes,
    oldestMs: batch.oldestMs,
    newestMs: batch.newestMs,
  };
}
