import { expect } from "chai";
import { uncompressSync } from "snappy";
import type { LogEntry, Metadata } from "../handler/types";
import type { Stream } from "../handler/loki/batch";
import { encodeAndCompress, encodePushRequest } from "../handler/loki/encode";
import { decodePushRequest, type ReceivedStream } from "./support/loki-receiver";
import { encodeWithProtobufjsReflection } from "./support/protobufjs-reference";
import { WireReader, WireType } from "./support/proto-wire";
import { seededRandom } from "./support/random";

/** What the independent decoder should return for `streams`. */
function expected(streams: readonly Stream[]): ReceivedStream[] {
  return streams.map((stream) => ({
    labels: stream.labels,
    entries: stream.entries.map((entry) => ({
      sec: entry.sec,
      nsec: entry.nsec,
      line: toWellFormed(entry.line),
      metadata: Object.fromEntries(Object.keys(entry.metadata ?? {}).sort().map((name) => [name, entry.metadata![name]])),
    })),
  }));
}

/** Lone surrogates cannot be UTF-8 encoded; they become U+FFFD on the wire. */
function toWellFormed(text: string): string {
  return Buffer.from(text, "utf8").toString("utf8");
}

function roundTrip(streams: readonly Stream[]): ReceivedStream[] {
  return decodePushRequest(encodePushRequest(streams));
}

const ALPHABETS = [
  "abcdefghijklmnopqrstuvwxyz0123456789 =:/.-_\"{}",
  "äöüßéèçñ€",
  "日本語のログ行",
  "😀🚀𝄞",
  "\u0000\t\n\r\u007f",
].map((alphabet) => [...alphabet]);

function randomText(random: () => number, maxUnits: number): string {
  const length = Math.floor(random() * maxUnits);
  let text = "";
  while (text.length < length) {
    const alphabet = ALPHABETS[random() < 0.7 ? 0 : Math.floor(random() * ALPHABETS.length)];
    text += alphabet[Math.floor(random() * alphabet.length)];
  }
  return text;
}

/** Random streams; about one line in 50 is long (up to 40 000 UTF-16 units). */
function randomStreams(random: () => number, streamCount: number, maxEntries: number, maxLine: number): Stream[] {
  return Array.from({ length: streamCount }, (_, s) => ({
    labels: `{job="j${s}", text="${randomText(random, 12).replace(/["\\\n]/g, "_")}"}`,
    entries: Array.from({ length: 1 + Math.floor(random() * maxEntries) }, (): LogEntry => {
      const entry: LogEntry = {
        sec: random() < 0.05 ? 0 : 1_600_000_000 + Math.floor(random() * 200_000_000),
        nsec: random() < 0.2 ? 0 : Math.floor(random() * 1e9),
        line: randomText(random, random() < 0.02 ? 40_000 : maxLine),
      };
      if (random() < 0.4) {
        entry.metadata = {};
        for (let i = Math.floor(random() * 4); i > 0; i--) entry.metadata[`m_${randomText(random, 6).replace(/[^a-z]/g, "")}${i}`] = randomText(random, 30);
      }
      return entry;
    }),
  }));
}

describe("loki encode: PushRequest", () => {
  it("uses Loki's field numbers and wire types at every level", () => {
    const bytes = encodePushRequest([
      { labels: '{job="x"}', entries: [{ sec: 1_700_000_000, nsec: 123_456_789, line: "hello", metadata: { trace_id: "abc" } }] },
    ]);
    const fields = (data: Uint8Array): Array<{ field: number; wireType: number; value: Uint8Array | bigint }> => {
      const reader = new WireReader(data);
      const found = [];
      while (!reader.done) {
        const tag = reader.readTag();
        const value = tag.wireType === WireType.LEN ? reader.readLengthDelimited() : reader.readVarint();
        found.push({ ...tag, value });
      }
      return found;
    };
    const request = fields(bytes);
    expect(request.map((f) => [f.field, f.wireType])).to.deep.equal([[1, 2]]);
    const stream = fields(request[0].value as Uint8Array);
    expect(stream.map((f) => [f.field, f.wireType])).to.deep.equal([
      [1, 2],
      [2, 2],
    ]);
    expect(Buffer.from(stream[0].value as Uint8Array).toString()).to.equal('{job="x"}');
    const entry = fields(stream[1].value as Uint8Array);
    expect(entry.map((f) => [f.field, f.wireType])).to.deep.equal([
      [1, 2],
      [2, 2],
      [3, 2],
    ]);
    const timestamp = fields(entry[0].value as Uint8Array);
    expect(timestamp.map((f) => [f.field, f.wireType, f.value])).to.deep.equal([
      [1, 0, 1_700_000_000n],
      [2, 0, 123_456_789n],
    ]);
    expect(Buffer.from(entry[1].value as Uint8Array).toString()).to.equal("hello");
    const pair = fields(entry[2].value as Uint8Array);
    expect(pair.map((f) => [f.field, f.wireType, Buffer.from(f.value as Uint8Array).toString()])).to.deep.equal([
      [1, 2, "trace_id"],
      [2, 2, "abc"],
    ]);
  });

  it("keeps nanosecond timestamps exact, including zero and out-of-32-bit seconds", () => {
    const entries: LogEntry[] = [
      { sec: 1_700_000_000, nsec: 123_456_789, line: "a" },
      { sec: 1_700_000_000, nsec: 999_999_999, line: "b" },
      { sec: 1_700_000_001, nsec: 0, line: "c" },
      { sec: 0, nsec: 1, line: "d" },
      { sec: 0, nsec: 0, line: "e" },
      { sec: 2 ** 33 + 5, nsec: 7, line: "f" },
      { sec: -1, nsec: 500, line: "g" },
      { sec: -62_135_596_800, nsec: 0, line: "h" },
    ];
    expect(roundTrip([{ labels: '{a="b"}', entries }])).to.deep.equal(expected([{ labels: '{a="b"}', entries }]));
  });

  it("writes every varint size of seconds, nanoseconds and line length as protobufjs does", () => {
    // The entry writer takes a byte-by-byte path for seconds in (0, 2^32] and protobufjs's int64
    // otherwise; each boundary of a varint's size, on both sides of that switch, must give the
    // reference encoder's bytes. Line lengths cross the one- and two-byte length prefixes, in
    // ASCII and in 2-byte characters (whose prefix the writer guesses too short).
    const seconds = [1, 127, 128, 16_383, 16_384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 0xffffffff, 0x100000000, 2 ** 35, 0, -1, -(2 ** 32)];
    const nanos = [0, 1, 127, 128, 16_383, 16_384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 999_999_999];
    const lines = [0, 1, 31, 32, 127, 128, 16_383, 16_384].flatMap((n) => ["a".repeat(n), "é".repeat(Math.ceil(n / 2))]);
    const entries: LogEntry[] = [];
    for (const sec of seconds) for (const nsec of nanos) entries.push({ sec, nsec, line: lines[entries.length % lines.length] });
    const streams: Stream[] = [{ labels: '{a="b"}', entries }];
    expect(Buffer.from(encodePushRequest(streams)).equals(Buffer.from(encodeWithProtobufjsReflection(streams)))).to.equal(true);
    expect(roundTrip(streams)).to.deep.equal(expected(streams));
  });

  it("writes unicode, empty and boundary-length lines", () => {
    const lines = [
      "",
      "plain ascii",
      "grüße 日本語 😀",
      "\u0000 nul and \t tab",
      "lone surrogate \ud800 here",
      "x".repeat(31),
      "x".repeat(32),
      "é".repeat(31), // short-string path falls back to the native writer
      "x".repeat(127),
      "x".repeat(128),
      "é".repeat(64), // 64 UTF-16 units but 128 UTF-8 bytes: the length prefix must grow
      "日".repeat(5462), // 16386 bytes: prefix grows from 2 to 3 bytes
      "€".repeat(699_051), // > 2 MiB: prefix grows from 3 to 4 bytes
      "y".repeat(1_000_000),
    ];
    const streams = [{ labels: '{job="unicode"}', entries: lines.map((line, i) => ({ sec: 1_700_000_000 + i, nsec: 0, line })) }];
    expect(roundTrip(streams)).to.deep.equal(expected(streams));
  });

  it("writes structured metadata as name/value pairs sorted by name", () => {
    const entry: LogEntry = { sec: 1, nsec: 2, line: "x", metadata: { zeta: "last", alpha: "first", "": "no name", empty: "", ünï: "cødé" } };
    const [stream] = roundTrip([{ labels: "{}", entries: [entry] }]);
    expect(Object.keys(stream.entries[0].metadata)).to.deep.equal(["", "alpha", "empty", "zeta", "ünï"]);
    expect(stream.entries[0].metadata).to.deep.equal(entry.metadata);
  });

  it("encodes the same entry to the same bytes whatever the metadata insertion order", () => {
    const a = encodePushRequest([{ labels: "{}", entries: [{ sec: 1, nsec: 0, line: "x", metadata: { a: "1", b: "2" } }] }]);
    const b = encodePushRequest([{ labels: "{}", entries: [{ sec: 1, nsec: 0, line: "x", metadata: { b: "2", a: "1" } }] }]);
    expect(Buffer.from(a).equals(Buffer.from(b))).to.equal(true);
  });

  it("writes many streams in order", () => {
    const streams = randomStreams(seededRandom(1), 200, 30, 300);
    expect(roundTrip(streams)).to.deep.equal(expected(streams));
  });

  it("round-trips random batches through the independent decoder", () => {
    const random = seededRandom(42);
    for (let i = 0; i < 30; i++) {
      const streams = randomStreams(random, 1 + Math.floor(random() * 5), 40, 600);
      expect(roundTrip(streams)).to.deep.equal(expected(streams));
    }
  });

  it("produces exactly the bytes protobufjs's reflection encoder writes for push.proto", () => {
    const random = seededRandom(7);
    for (let i = 0; i < 20; i++) {
      const streams = randomStreams(random, 1 + Math.floor(random() * 6), 30, 500);
      const reference = Buffer.from(encodeWithProtobufjsReflection(streams));
      expect(Buffer.from(encodePushRequest(streams)).equals(reference), `batch ${i}`).to.equal(true);
    }
  });

  it("writes a metadata object shared by many entries exactly as if each had its own copy", () => {
    // Entries of one source group share one metadata object, which is encoded once and copied.
    // Lines of 3-byte characters make entries outgrow their guessed length prefix, which moves
    // the bytes already written (the copied metadata among them).
    const random = seededRandom(11);
    const pool: Metadata[] = [{ cloudwatch_log_stream: "2025/11/22/[$LATEST]abc", cloudwatch_owner: "123456789012" }, { s3_key: "AWSLogs/ü/é.gz" }, { z: "€".repeat(60) }];
    const line = () => (random() < 0.5 ? "€".repeat(Math.floor(random() * 5000)) : randomText(random, 300));
    for (let i = 0; i < 10; i++) {
      const streams: Stream[] = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, s) => ({
        labels: `{s="${s}"}`,
        entries: Array.from({ length: 1 + Math.floor(random() * 40) }, (): LogEntry => {
          const shared = random() < 0.8 ? pool[Math.floor(random() * pool.length)] : undefined;
          return { sec: 1_700_000_000 + Math.floor(random() * 100), nsec: 0, line: line(), ...(shared ? { metadata: shared } : {}) };
        }),
      }));
      const copied = streams.map((stream) => ({ ...stream, entries: stream.entries.map((e) => (e.metadata ? { ...e, metadata: { ...e.metadata } } : e)) }));
      const reference = Buffer.from(encodeWithProtobufjsReflection(copied));
      expect(Buffer.from(encodePushRequest(streams)).equals(reference), `batch ${i}`).to.equal(true);
    }
  });

  it("returns an independent copy and recovers after a failed encode", () => {
    const first = encodePushRequest([{ labels: '{a="1"}', entries: [{ sec: 1, nsec: 1, line: "first" }] }]);
    const copy = Buffer.from(first);
    const broken = [{ labels: "{}", entries: [{ sec: 1, nsec: 1, line: "x", metadata: { bad: undefined as unknown as string } }] }];
    expect(() => encodePushRequest(broken)).to.throw();
    const streams = [{ labels: '{b="2"}', entries: [{ sec: 2, nsec: 2, line: "second" }] }];
    expect(roundTrip(streams)).to.deep.equal(expected(streams));
    expect(Buffer.from(first).equals(copy)).to.equal(true);
  });

  it("encodes an empty request as zero bytes", () => {
    expect(encodePushRequest([]).length).to.equal(0);
  });
});

describe("loki encode: compressed body", () => {
  it("encodeAndCompress is compress(encodePushRequest(...))", () => {
    const streams = randomStreams(seededRandom(9), 5, 50, 400);
    const body = encodeAndCompress(streams);
    const decoded = uncompressSync(Buffer.from(body), { asBuffer: true }) as Buffer;
    expect(decoded.equals(Buffer.from(encodePushRequest(streams)))).to.equal(true);
    expect(decodePushRequest(decoded)).to.deep.equal(expected(streams));
  });
});

describe("test support: proto-wire reader", () => {
  const bytes = (...values: number[]) => Uint8Array.from(values);

  it("reads varints, int64 and fixed values", () => {
    expect(new WireReader(bytes(0x96, 0x01)).readSafeVarint()).to.equal(150);
    expect(new WireReader(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)).readInt64()).to.equal(-1);
    expect(new WireReader(bytes(0x80, 0xe2, 0xcf, 0xaa, 0x06)).readInt64()).to.equal(1_700_000_000);
    expect(new WireReader(bytes(0x78, 0x56, 0x34, 0x12)).readFixed32()).to.equal(0x12345678);
    expect(new WireReader(bytes(1, 0, 0, 0, 2, 0, 0, 0)).readFixed64()).to.equal((2n << 32n) | 1n);
  });

  it("skips fields of every supported wire type", () => {
    // field 1 varint, field 2 fixed64, field 3 bytes, field 4 fixed32, then field 5 varint 7
    const reader = new WireReader(bytes(0x08, 0x01, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1a, 0x02, 0xaa, 0xbb, 0x25, 1, 2, 3, 4, 0x28, 0x07));
    for (let i = 0; i < 4; i++) {
      const tag = reader.readTag();
      reader.skip(tag.wireType);
    }
    expect(reader.readTag()).to.deep.equal({ field: 5, wireType: WireType.VARINT });
    expect(reader.readSafeVarint()).to.equal(7);
    expect(reader.done).to.equal(true);
  });

  it("rejects truncated, overlong and non-canonical input", () => {
    expect(() => new WireReader(bytes(0x80)).readVarint()).to.throw(/truncated/);
    expect(() => new WireReader(bytes(0x05, 0x61)).readLengthDelimited()).to.throw(/past the end/);
    expect(() => new WireReader(bytes(...Array<number>(10).fill(0x80), 0x01)).readVarint()).to.throw(/longer than 10/);
    expect(new WireReader(bytes(0x80, 0x00)).readSafeVarint()).to.equal(0);
    expect(() => new WireReader(bytes(0x80, 0x00), { canonicalVarints: true }).readSafeVarint()).to.throw(/non-canonical/);
    expect(() => new WireReader(bytes(0x02, 0xc3, 0x28)).readString()).to.throw(/UTF-8/);
    expect(() => new WireReader(bytes(0x0b)).skip(new WireReader(bytes(0x0b)).readTag().wireType)).to.throw(/wire type 3/);
  });
});
