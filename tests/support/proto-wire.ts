/**
 * A small, independent reader of the protobuf wire format (varints, length-delimited fields,
 * fixed 32/64-bit values). The test receiver decodes push requests with it instead of
 * protobufjs, so that a mistake shared by our encoder and its library cannot hide itself.
 *
 * Reference: https://protobuf.dev/programming-guides/encoding/
 */

export const WireType = {
  VARINT: 0,
  I64: 1,
  LEN: 2,
  START_GROUP: 3,
  END_GROUP: 4,
  I32: 5,
} as const;

export interface FieldTag {
  field: number;
  wireType: number;
}

export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WireFormatError";
  }
}

export interface WireReaderOptions {
  /**
   * Reject varints with redundant continuation bytes (e.g. `0x80 0x00` for 0). Decoders must
   * accept them, but a canonical encoder never writes them; tests use this to catch a
   * length prefix that was reserved too long and never shrunk.
   */
  canonicalVarints?: boolean;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes UTF-8 strictly: protobuf `string` fields must hold valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new WireFormatError("string field is not valid UTF-8");
  }
}

export class WireReader {
  private pos = 0;
  private readonly end: number;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: WireReaderOptions = {},
  ) {
    this.end = bytes.length;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  get offset(): number {
    return this.pos;
  }

  readTag(): FieldTag {
    const key = this.readSafeVarint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field < 1 || field > 0x1fffffff) throw new WireFormatError(`invalid field number ${field} at ${this.pos}`);
    return { field, wireType };
  }

  /** An unsigned varint of up to 64 bits. */
  readVarint(): bigint {
    const start = this.pos;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireFormatError(`truncated varint at ${start}`);
      const byte = this.bytes[this.pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        if (this.options.canonicalVarints && byte === 0 && i > 0) {
          throw new WireFormatError(`non-canonical varint at ${start}`);
        }
        return BigInt.asUintN(64, result);
      }
      shift += 7n;
    }
    throw new WireFormatError(`varint longer than 10 bytes at ${start}`);
  }

  /** A varint that must fit in a JavaScript number exactly (tags, lengths); no BigInt on this hot path. */
  readSafeVarint(): number {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new WireFormatError(`truncated varint at ${start}`);
      const byte = this.bytes[this.pos++];
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (this.options.canonicalVarints && byte === 0 && i > 0) throw new WireFormatError(`non-canonical varint at ${start}`);
        if (result > Number.MAX_SAFE_INTEGER) throw new WireFormatError(`varint at ${start} exceeds 2^53`);
        return result;
      }
      scale *= 128;
    }
    throw new WireFormatError(`varint at ${start} exceeds 2^53`);
  }

  /** A protobuf `int64` (two's complement in a varint) as a number; throws if not exact. */
  readInt64(): number {
    const value = BigInt.asIntN(64, this.readVarint());
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new WireFormatError(`int64 ${value} is not a safe integer`);
    }
    return Number(value);
  }

  /** A protobuf `int32`: negative values are sign-extended to 10-byte varints. */
  readInt32(): number {
    return Number(BigInt.asIntN(32, this.readVarint()));
  }

  readLengthDelimited(): Uint8Array {
    const length = this.readSafeVarint();
    if (length > this.end - this.pos) throw new WireFormatError(`length ${length} at ${this.pos} runs past the end`);
    const value = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  readString(): string {
    return decodeUtf8(this.readLengthDelimited());
  }

  readFixed32(): number {
    if (this.end - this.pos < 4) throw new WireFormatError(`truncated fixed32 at ${this.pos}`);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  readFixed64(): bigint {
    const low = BigInt(this.readFixed32());
    const high = BigInt(this.readFixed32());
    return (high << 32n) | low;
  }

  /** Skips the value of a field this reader's caller does not know. */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.readVarint();
        return;
      case WireType.I64:
        this.readFixed64();
        return;
      case WireType.LEN:
        this.readLengthDelimited();
        return;
      case WireType.I32:
        this.readFixed32();
        return;
      default:
        throw new WireFormatError(`unsupported wire type ${wireType} at ${this.pos}`);
    }
  }

  /** Throws unless a field has the wire type its schema requires. */
  static expect(tag: FieldTag, wireType: number, what: string): void {
    if (tag.wireType !== wireType) {
      throw new WireFormatError(`${what} (field ${tag.field}) has wire type ${tag.wireType}, expected ${wireType}`);
    }
  }
}
