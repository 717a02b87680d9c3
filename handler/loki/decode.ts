/**
 * Reads a push body (a snappy block of a `logproto.PushRequest`, see push.proto) back into
 * streams: the reverse of encode.ts.
 *
 * Only the 413 path needs it. A push in flight keeps its compressed body, not its entries
 * (encodeBatch in encode.ts), so that a batch's lines do not stay in memory twice while Loki
 * answers; the rare body Loki finds too large is decoded here and split in halves.
 *
 * It reads the wire format as any protobuf decoder does (fields in any order, unknown fields
 * skipped, proto3 defaults for absent ones), not only the layout our encoder writes, but it is
 * only ever given bodies this process encoded. Hand-written rather than protobufjs's reflection
 * decoder: that would need push.proto parsed at run time (the full protobufjs build in the
 * bundle) and gives int64 seconds as Long objects and entries as plain objects that would still
 * have to be converted to LogEntry.
 */
import type { LogEntry, Metadata } from "../types";
import type { Stream } from "./batch";
import { snappyCompressor } from "./snappy";

// Field numbers of push.proto; wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

export class PushDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PushDecodeError";
  }
}

/** A position in one message: `[pos, end)` of `buf`. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  get more(): boolean {
    return this.pos < this.end;
  }

  private byte(): number {
    if (this.pos >= this.end) throw new PushDecodeError(`truncated varint at byte ${this.pos}`);
    return this.buf[this.pos++];
  }

  /** A varint's low 32 bits, unsigned (tags, lengths, nanos); the rest of a longer varint is consumed. */
  uint32(): number {
    let value = 0;
    for (let i = 0; i < 10; i++) {
      const byte = this.byte();
      if (i < 5) value |= (byte & 0x7f) << (7 * i);
      if (byte < 0x80) return value >>> 0;
    }
    throw new PushDecodeError(`varint longer than 10 bytes before byte ${this.pos}`);
  }

  /**
   * An int64 varint as a number: exact for every value the encoder writes (it writes JavaScript
   * integers, and the high word times 2^32 plus the low word rounds to the one it started from).
   */
  int64(): number {
    let low = 0;
    let high = 0;
    for (let i = 0; i < 10; i++) {
      const byte = this.byte();
      const bits = byte & 0x7f;
      if (i < 4) low |= bits << (7 * i);
      else if (i === 4) {
        low |= bits << 28;
        high |= bits >>> 4;
      } else high |= bits << (7 * i - 32);
      if (byte < 0x80) return (high | 0) * 2 ** 32 + (low >>> 0);
    }
    throw new PushDecodeError(`varint longer than 10 bytes before byte ${this.pos}`);
  }

  /** The body of a length-delimited field, as a reader; this one moves past it. */
  message(): Reader {
    const length = this.uint32();
    const start = this.pos;
    if (length > this.end - start) throw new PushDecodeError(`a field of ${length} bytes at byte ${start} runs past the end of its message`);
    this.pos = start + length;
    return new Reader(this.buf, start, this.pos);
  }

  string(): string {
    const field = this.message();
    return this.buf.toString("utf8", field.pos, field.end);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.uint32();
        return;
      case FIXED64:
        this.skipBytes(8);
        return;
      case LENGTH_DELIMITED:
        this.message();
        return;
      case FIXED32:
        this.skipBytes(4);
        return;
      default:
        throw new PushDecodeError(`unsupported wire type ${wireType} before byte ${this.pos}`);
    }
  }

  private skipBytes(count: number): void {
    if (count > this.end - this.pos) throw new PushDecodeError(`truncated field at byte ${this.pos}`);
    this.pos += count;
  }
}

/** Throws unless a known field has the wire type push.proto gives it. */
function expectWireType(key: number, wireType: number, what: string): void {
  if ((key & 7) !== wireType) throw new PushDecodeError(`${what} has wire type ${key & 7}, expected ${wireType}`);
}

/** Decodes an uncompressed `logproto.PushRequest` into streams, in wire order. */
export function decodePushRequest(bytes: Uint8Array): Stream[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = new Reader(buf, 0, buf.length);
  const streams: Stream[] = [];
  while (reader.more) {
    const key = reader.uint32();
    if (key >>> 3 === 1) {
      expectWireType(key, LENGTH_DELIMITED, "PushRequest.streams");
      streams.push(readStream(reader.message()));
    } else reader.skip(key & 7);
  }
  return streams;
}

/** Decodes a push body as encodeAndCompress writes it: a snappy block of a PushRequest. */
export function decodePushBody(body: Uint8Array): Stream[] {
  return decodePushRequest(snappyCompressor().uncompress(body));
}

function readStream(reader: Reader): Stream {
  const stream: Stream = { labels: "", entries: [] };
  while (reader.more) {
    const key = reader.uint32();
    switch (key >>> 3) {
      case 1:
        expectWireType(key, LENGTH_DELIMITED, "StreamAdapter.labels");
        stream.labels = reader.string();
        break;
      case 2:
        expectWireType(key, LENGTH_DELIMITED, "StreamAdapter.entries");
        stream.entries.push(readEntry(reader.message()));
        break;
      default:
        // hash (3): Loki's distributor fills it in; clients leave it out.
        reader.skip(key & 7);
    }
  }
  return stream;
}

function readEntry(reader: Reader): LogEntry {
  let sec = 0;
  let nsec = 0;
  let line = "";
  let metadata: Metadata | undefined;
  while (reader.more) {
    const key = reader.uint32();
    switch (key >>> 3) {
      case 1: {
        expectWireType(key, LENGTH_DELIMITED, "EntryAdapter.timestamp");
        const timestamp = reader.message();
        while (timestamp.more) {
          const field = timestamp.uint32();
          if (field >>> 3 === 1) {
            expectWireType(field, VARINT, "Timestamp.seconds");
            sec = timestamp.int64();
          } else if (field >>> 3 === 2) {
            expectWireType(field, VARINT, "Timestamp.nanos");
            nsec = timestamp.uint32() | 0;
          } else timestamp.skip(field & 7);
        }
        break;
      }
      case 2:
        expectWireType(key, LENGTH_DELIMITED, "EntryAdapter.line");
        line = reader.string();
        break;
      case 3: {
        expectWireType(key, LENGTH_DELIMITED, "EntryAdapter.structuredMetadata");
        const [name, value] = readLabelPair(reader.message());
        (metadata ??= {})[name] = value;
        break;
      }
      default:
        reader.skip(key & 7);
    }
  }
  // The same shape as the sources' entries: no metadata property unless there is metadata.
  return metadata === undefined ? { sec, nsec, line } : { sec, nsec, line, metadata };
}

function readLabelPair(reader: Reader): [string, string] {
  let name = "";
  let value = "";
  while (reader.more) {
    const key = reader.uint32();
    if (key >>> 3 === 1) {
      expectWireType(key, LENGTH_DELIMITED, "LabelPairAdapter.name");
      name = reader.string();
    } else if (key >>> 3 === 2) {
      expectWireType(key, LENGTH_DELIMITED, "LabelPairAdapter.value");
      value = reader.string();
    } else reader.skip(key & 7);
  }
  return [name, value];
}
