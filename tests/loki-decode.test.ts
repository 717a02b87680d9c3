import { expect } from "chai";
import * as protobuf from "protobufjs";
import * as path from "node:path";
import type { Stream } from "../handler/loki/batch";
import { LokiClient } from "../handler/loki/client";
import { decodePushBody, decodePushRequest, PushDecodeError } from "../handler/loki/decode";
import { encodeAndCompress, encodePush, encodePushRequest } from "../handler/loki/encode";
import { MAX_ENTRY_SEC, MIN_ENTRY_SEC, type LogEntry, type Metadata } from "../handler/types";
import { MemoryLog } from "./support/events";
import { LokiReceiver, type SizeMeasure } from "./support/loki-receiver";
import { decodeWithProtobufjsReflection } from "./support/protobufjs-reference";
import { seededRandom } from "./support/random";

const T = 1_763_798_400;

function entry(line: string, sec = T, nsec = 0, metadata?: Metadata): LogEntry {
  return metadata === undefined ? { sec, nsec, line } : { sec, nsec, line, metadata };
}

/** What a decoder can give back: metadata sorted by name (the encoder writes it so), none for an empty object. */
function normalised(streams: readonly Stream[]): Stream[] {
  return streams.map((stream) => ({
    labels: stream.labels,
    entries: stream.entries.map((e) => {
      const names = Object.keys(e.metadata ?? {}).sort();
      return names.length === 0 ? entry(e.line, e.sec, e.nsec) : entry(e.line, e.sec, e.nsec, Object.fromEntries(names.map((n) => [n, e.metadata![n]])));
    }),
  }));
}

/** A line of pseudo-random printable text with multi-byte characters, `units` UTF-16 units long. */
function mixedLine(seed: number, units: number): string {
  const random = seededRandom(seed);
  const alphabet = ["a", "Z", " ", "=", "\"", "é", "ß", "€", "日", "本", "😀", "\t", "\u0000", "\u202e"];
  let line = "";
  while (line.length < units) line += alphabet[Math.floor(random() * alphabet.length)];
  return line.slice(0, units).replace(/[\ud800-\udbff]$/, "x");
}

/** The nasty cases: each is a list of streams the encoder accepts. */
const CASES: [string, Stream[]][] = [
  ["one plain entry", [{ labels: '{job="x"}', entries: [entry("hello")] }]],
  ["empty lines only (Loki stores them)", [{ labels: '{job="x"}', entries: [entry(""), entry(""), entry("", T + 1)] }]],
  ["empty lines between others", [{ labels: '{job="x"}', entries: [entry("a"), entry(""), entry("b"), entry("")] }]],
  ["an empty label string", [{ labels: "", entries: [entry("no labels")] }]],
  ["a stream without entries beside one with", [{ labels: '{job="empty"}', entries: [] }, { labels: '{job="x"}', entries: [entry("a")] }]],
  ["structured metadata, inserted unsorted, with non-ASCII and empty values", [{
    labels: '{job="x"}',
    entries: [
      entry("m1", T, 0, { trace_id: "abc", level: "info", "näme": "välue 😀" }),
      entry("m2", T, 1, { only_name: "" }),
      entry("m3", T, 2, { "": "only value" }),
      entry("m4", T, 3, {}),
      entry("", T, 4, { empty_line: "yes" }),
    ],
  }]],
  ["entries sharing one metadata object across streams", (() => {
    const shared = Object.freeze({ account: "123456789012", region: "eu-west-1" });
    return [0, 1, 2].map((s) => ({ labels: `{s="${s}"}`, entries: [entry(`x${s}`, T, s, shared), entry(`y${s}`, T + 1, 0, shared)] }));
  })()],
  ["non-ASCII lines and labels", [{ labels: '{app="日本語", team="Zürich"}', entries: [
    entry("é"), entry("日本語のログ行"), entry("😀👍🏽 emoji and a flag 🇨🇭"), entry("עברית RTL \u202e reversed"), entry("e\u0301 combining"),
    entry("NUL \u0000 inside"), entry("CRLF\r\nand\ttab"), entry("\ufeffBOM first"),
  ] }]],
  ["lines at the varint boundaries of their length prefix", [{ labels: '{job="x"}', entries: [
    entry("a".repeat(127)), entry("a".repeat(128)), entry("a".repeat(16_383)), entry("a".repeat(16_384)),
    entry("é".repeat(64)), entry("é".repeat(8192)), entry(mixedLine(1, 100_000)),
  ] }]],
  ["a line of 1 MB", [{ labels: '{job="x"}', entries: [entry(mixedLine(2, 1 << 20))] }]],
  ["timestamps at the edges", [{ labels: '{job="x"}', entries: [
    entry("epoch", 0, 0), entry("epoch + 1 ns", 0, 1), entry("max nanos", T, 999_999_999),
    entry("just before the epoch", -1, 999_999_999), entry("-1 s", -1, 0),
    entry("year 1", MIN_ENTRY_SEC, 0), entry("year 9999", MAX_ENTRY_SEC, 999_999_999),
    entry("2^31 - 1", 2 ** 31 - 1), entry("2^31", 2 ** 31), entry("2^32 - 1 (2106)", 2 ** 32 - 1), entry("2^32", 2 ** 32),
    entry("2^35", 2 ** 35), entry("2^53 - 1", Number.MAX_SAFE_INTEGER), entry("-(2^53 - 1)", Number.MIN_SAFE_INTEGER),
    entry("largest int64 double", 2 ** 63 - 1024, 7), entry("-2^63", -(2 ** 63)), entry("-2^32", -(2 ** 32)), entry("-2^31 - 1", -(2 ** 31) - 1),
  ] }]],
  ["many streams", Array.from({ length: 1500 }, (_, s) => ({
    labels: `{job="x", n="${s}"}`,
    entries: Array.from({ length: 1 + (s % 4) }, (_, i) => entry(`${s}/${i} ${"x".repeat(s % 300)}`, T + i, s)),
  }))],
];

describe("loki push decoding", () => {
  for (const [name, streams] of CASES) {
    it(`reads back what the encoder writes: ${name}`, () => {
      const encoded = encodePushRequest(streams);
      const decoded = decodePushRequest(encoded);
      expect(decoded).to.deep.equal(normalised(streams));
      // Encoded again, it is the same request: a split half holds exactly what was batched.
      expect(Buffer.from(encodePushRequest(decoded)).equals(Buffer.from(encoded))).to.equal(true);
      expect(decodePushBody(encodeAndCompress(streams))).to.deep.equal(decoded);
    });
  }

  it("reads what protobufjs's reflection decoder reads from push.proto, for every case above", () => {
    for (const [name, streams] of CASES) {
      const encoded = encodePushRequest(streams);
      expect(decodePushRequest(encoded), name).to.deep.equal(decodeWithProtobufjsReflection(encoded));
    }
  });

  it("reads a lone surrogate as the replacement character the encoder wrote, and encodes it to the same bytes", () => {
    const streams = [{ labels: '{job="x"}', entries: [entry("half a pair \ud83d here"), entry("\udc00")] }];
    const encoded = encodePushRequest(streams);
    const decoded = decodePushRequest(encoded);
    expect(decoded[0].entries.map((e) => e.line)).to.deep.equal(["half a pair \ufffd here", "\ufffd"]);
    expect(Buffer.from(encodePushRequest(decoded)).equals(Buffer.from(encoded))).to.equal(true);
  });

  it("reads back every int64 second and nanosecond the encoder writes (property over the whole range)", () => {
    const random = seededRandom(13);
    const entries: LogEntry[] = [];
    for (let i = 0; i < 20_000; i++) {
      // Magnitudes spread evenly over 2^0 .. 2^63, both signs; integers only, as the encoder requires.
      const magnitude = Math.min(Math.floor(2 ** (random() * 63)), 2 ** 63 - 1024);
      const sec = random() < 0.5 ? -magnitude : magnitude;
      entries.push(entry(String(i), sec, Math.floor(random() * 1e9)));
    }
    const decoded = decodePushRequest(encodePushRequest([{ labels: "{}", entries }]));
    expect(decoded[0].entries.map((e) => [e.sec, e.nsec])).to.deep.equal(entries.map((e) => [e.sec, e.nsec]));
  });

  it("reads fields in any order and skips fields it does not know, as a protobuf decoder must", () => {
    const root = protobuf.loadSync(path.join(__dirname, "../handler/loki/push.proto"));
    const PushRequest = root.lookupType("logproto.PushRequest");
    // A hash (field 3, set by Loki's distributor) and the entries before the labels.
    const bytes = PushRequest.encode({ streams: [{ hash: 12345, entries: [{ timestamp: { seconds: T, nanos: 5 }, line: "x" }], labels: '{job="x"}' }] }).finish();
    expect(decodePushRequest(bytes)).to.deep.equal([{ labels: '{job="x"}', entries: [entry("x", T, 5)] }]);
    const reordered = Buffer.concat([
      Buffer.from([0x12, 3, 0x12, 1, 0x79]), // entries { line "y" } before the labels
      Buffer.from([0x0a, 2, 0x7b, 0x7d]), // labels "{}"
      Buffer.from([0x18, 0x96, 0x01]), // hash 150
    ]);
    const request = Buffer.concat([Buffer.from([0x0a, reordered.length]), reordered, Buffer.from([0x15, 1, 2, 3, 4])]); // and a fixed32 field 2 of PushRequest
    expect(decodePushRequest(request)).to.deep.equal([{ labels: "{}", entries: [entry("y", 0, 0)] }]);
  });

  it("refuses a truncated or malformed body with a PushDecodeError", () => {
    const encoded = Buffer.from(encodePushRequest([{ labels: '{job="x"}', entries: [entry("hello"), entry("world")] }]));
    for (const cut of [1, 2, 5, encoded.length - 1]) {
      expect(() => decodePushRequest(encoded.subarray(0, cut)), `cut at ${cut}`).to.throw(PushDecodeError);
    }
    expect(() => decodePushRequest(Buffer.from([0x0b]))).to.throw(PushDecodeError, /wire type 3/);
    expect(() => decodePushRequest(Buffer.from([0x08, 0x01]))).to.throw(PushDecodeError, /PushRequest.streams has wire type 0/);
    expect(() => decodePushBody(Buffer.from("not snappy at all"))).to.throw();
  });
});

describe("loki push decoding: bodies split on 413, through the local Loki receiver", () => {
  const loki = new LokiReceiver();
  let client: LokiClient;

  before(async () => {
    client = new LokiClient({ url: await loki.start(), log: new MemoryLog(), sleep: async () => {} });
  });
  afterEach(() => loki.reset());
  after(async () => {
    client.close();
    await loki.stop();
  });

  /** Streams of the nasty cases' kinds, interleaved over several streams, each entry distinct. */
  function nastyStreams(): Stream[] {
    const streams: Stream[] = Array.from({ length: 5 }, (_, s) => ({ labels: `{job="split", n="${s}", städt="${"ü".repeat(s)}"}`, entries: [] }));
    const shared = Object.freeze({ account: "123456789012" });
    for (let i = 0; i < 400; i++) {
      const kind = i % 6;
      const line = kind === 0 ? "" : kind === 1 ? `plain ${i}` : kind === 2 ? `${i} ${mixedLine(i, 50 + (i % 300))}` : kind === 3 ? `😀 ${i}` : `${i} ${"x".repeat(i % 200)}`;
      const metadata = kind === 4 ? { trace_id: `t${i}`, level: "info" } : kind === 5 ? shared : undefined;
      // Equal timestamps in one stream too: Loki keeps both when their lines differ.
      streams[i % 5].entries.push(entry(line, i % 7 === 0 ? MIN_ENTRY_SEC + i : T + Math.floor(i / 3), (i * 7919) % 1e9, metadata));
    }
    return streams;
  }

  for (const measure of ["compressed", "decoded"] as SizeMeasure[]) {
    it(`stores exactly the pushed entries, in order, none lost or repeated (413 above 3000 ${measure} bytes)`, async () => {
      loki.rejectBodiesLargerThan(3000, measure);
      const streams = nastyStreams();
      const report = await client.push(encodePush(streams), { remainingMs: () => 600_000 });
      expect(report).to.include({ outcome: "ok", rejectedEntries: 0 });
      expect(report.splits).to.be.greaterThan(5);
      expect(loki.requests.filter((r) => r.status === 413)).to.have.length(report.splits);
      // What Loki stored, stream by stream in the order it arrived: the pushed entries exactly.
      const stored = new Map<string, LogEntry[]>();
      for (const push of loki.acceptedPushes()) {
        for (const stream of push.streams) {
          const entries = stored.get(stream.labels) ?? [];
          entries.push(...stream.entries.map((e) => (Object.keys(e.metadata).length === 0 ? entry(e.line, e.sec, e.nsec) : entry(e.line, e.sec, e.nsec, e.metadata))));
          stored.set(stream.labels, entries);
        }
      }
      expect([...stored.entries()].map(([labels, entries]) => ({ labels, entries }))).to.deep.equal(normalised(streams));
    });
  }
});
