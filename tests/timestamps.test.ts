/**
 * Timestamps Loki can store: google.protobuf.Timestamp's range (0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999999999Z). Sources refuse anything else for the record that carries it;
 * the encoder's size estimate and output agree for every int64 second it accepts and it refuses
 * the rest; through the real handler a bad time fails only its own record.
 */
import { expect } from "chai";
import { handler } from "../handler/index";
import { Batcher } from "../handler/loki/batch";
import { decodePushBody } from "../handler/loki/decode";
import { encodePushRequest } from "../handler/loki/encode";
import { timestampBodySize } from "../handler/loki/varint";
import { parseIsoTimestamp, utcSeconds } from "../handler/parsers/time";
import { rawLines } from "../handler/sources/kinesis";
import { ship } from "../handler/pipeline";
import { BadRecordError, entryAtMillis, fromMillis, MAX_ENTRY_SEC, MIN_ENTRY_SEC, type LogEntry, type SourceRecord } from "../handler/types";
import { cloudWatchEvent, cloudWatchPayload, gzipBase64, kinesisEvent, kinesisRecord, MemoryLog } from "./support/events";
import { useHandlerWithLoki } from "./support/handler-harness";
import { countEntries } from "./support/loki-receiver";
import { encodeWithProtobufjsReflection } from "./support/protobufjs-reference";
import { WireReader, WireType } from "./support/proto-wire";
import { seededRandom } from "./support/random";

const T0 = 1763798400000;

describe("timestamps: milliseconds from events", () => {
  const accepted: Array<[unknown, number, number]> = [
    [0, 0, 0],
    [-1, -1, 999_000_000],
    [1.5, 0, 1_500_000],
    [999.9999999, 1, 0], // rounds up to the next second rather than to nsec 1e9
    [-0, 0, 0],
    [T0 + 5, 1763798400, 5_000_000],
    [MIN_ENTRY_SEC * 1000, MIN_ENTRY_SEC, 0],
    [MAX_ENTRY_SEC * 1000 + 999, MAX_ENTRY_SEC, 999_000_000],
  ];
  for (const [ms, sec, nsec] of accepted) {
    it(`converts ${String(ms)} ms to ${sec} s + ${nsec} ns`, () => {
      const converted = fromMillis(ms);
      expect(converted).to.deep.equal({ sec, nsec });
      expect(Object.is(converted.sec, -0)).to.equal(false);
      // The entry made straight from the milliseconds (CloudWatch events) has the same time.
      const entry = entryAtMillis(ms as number, "a line");
      expect(entry).to.deep.equal({ sec, nsec, line: "a line" });
      expect(Object.is(entry!.sec, -0)).to.equal(false);
    });
  }

  const refused: unknown[] = [1e25, 1e300, -1e300, -1e25, NaN, Infinity, -Infinity, MIN_ENTRY_SEC * 1000 - 1, (MAX_ENTRY_SEC + 1) * 1000, "1763798400000", null, undefined, { ms: 1 }];
  for (const ms of refused) {
    it(`refuses ${typeof ms === "string" ? JSON.stringify(ms) : String(ms)} ms with a BadRecordError naming the value`, () => {
      expect(() => fromMillis(ms, "logEvents[3].timestamp"))
        .to.throw(BadRecordError, /^logEvents\[3\]\.timestamp .* is not a time Loki can store \(milliseconds since the epoch from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59\.999999999Z\)$/)
        .with.property("message").that.includes(typeof ms === "number" ? String(ms) : String(JSON.stringify(ms) ?? ms));
      if (typeof ms === "number") expect(entryAtMillis(ms, "a line")).to.equal(undefined);
    });
  }

  it("refuses Kinesis arrival times that are not seconds Loki can store", () => {
    expect(rawLines("a\n", 1763798400.5)).to.deep.equal([{ sec: 1763798400, nsec: 500_000_000, line: "a" }]);
    for (const arrival of [1e300, -1e20, NaN, "1763798400.5", null]) {
      expect(() => rawLines("a\n", arrival, "kinesis record 42"), String(arrival)).to.throw(BadRecordError, /^kinesis record 42: approximateArrivalTimestamp .* is not a time Loki can store/);
    }
  });
});

describe("timestamps: calendar times in logs", () => {
  it("maps years 0001..0099 to themselves, not to 1901..1999", () => {
    expect(utcSeconds(1, 1, 1, 0, 0, 0)).to.equal(MIN_ENTRY_SEC);
    expect(utcSeconds(99, 12, 31, 23, 59, 59)).to.equal(Date.parse("0099-12-31T23:59:59Z") / 1000);
    expect(utcSeconds(1999, 12, 31, 23, 59, 59)).to.equal(Date.parse("1999-12-31T23:59:59Z") / 1000);
  });

  it("accepts ISO times at both ends of the range and nothing beyond", () => {
    expect(parseIsoTimestamp("0001-01-01T00:00:00Z")).to.deep.equal({ sec: MIN_ENTRY_SEC, nsec: 0 });
    expect(parseIsoTimestamp("9999-12-31T23:59:59.999999999Z")).to.deep.equal({ sec: MAX_ENTRY_SEC, nsec: 999_999_999 });
    expect(parseIsoTimestamp("0050-06-15T12:00:00Z")).to.deep.equal({ sec: Date.parse("0050-06-15T12:00:00Z") / 1000, nsec: 0 });
    for (const text of ["0000-12-31T23:59:59Z", "0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01", "9999-12-31T99:00:00Z"]) {
      expect(parseIsoTimestamp(text), text).to.equal(undefined);
    }
  });

  it("accepts only times and zone offsets the calendar and the clock have", () => {
    expect(parseIsoTimestamp("2024-06-01T12:00:00+14:00")).to.deep.equal({ sec: Date.parse("2024-06-01T12:00:00+14:00") / 1000, nsec: 0 });
    expect(parseIsoTimestamp("2024-06-01T12:00:00-23:59")).to.deep.equal({ sec: Date.parse("2024-06-01T12:00:00-23:59") / 1000, nsec: 0 });
    expect(parseIsoTimestamp("2024-02-29T00:00:00Z")).to.deep.equal({ sec: Date.parse("2024-02-29T00:00:00Z") / 1000, nsec: 0 });
    expect(parseIsoTimestamp("2016-12-31T23:59:60Z"), "a leap second: the next second").to.deep.equal({ sec: Date.parse("2017-01-01T00:00:00Z") / 1000, nsec: 0 });
    for (const text of ["2024-06-01T12:00:00+23:99", "2024-06-01T12:00:00+24:00", "2024-06-01T12:00:00-0060", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-06-00T00:00:00Z", "2024-06-01T24:00:00Z", "2024-06-01T12:60:00Z", "2024-06-01T12:00:61Z"]) {
      expect(parseIsoTimestamp(text), text).to.equal(undefined);
    }
    expect(Number.isNaN(utcSeconds(2024, 13, 1, 0, 0, 0)), "month 13").to.equal(true);
  });
});

/** Decodes the single entry's timestamp of a one-entry PushRequest with the independent wire reader. */
function encodedTimestamp(request: Uint8Array): { bodyBytes: number; seconds: bigint; nanos: bigint } {
  const field = (bytes: Uint8Array, number: number): Uint8Array => {
    const reader = new WireReader(bytes, { canonicalVarints: true });
    while (!reader.done) {
      const tag = reader.readTag();
      if (tag.field === number && tag.wireType === WireType.LEN) return reader.readLengthDelimited();
      reader.skip(tag.wireType);
    }
    throw new Error(`field ${number} missing`);
  };
  const body = field(field(field(request, 1), 2), 1);
  const reader = new WireReader(body, { canonicalVarints: true });
  let seconds = 0n;
  let nanos = 0n;
  while (!reader.done) {
    const tag = reader.readTag();
    if (tag.field === 1) seconds = BigInt.asIntN(64, reader.readVarint());
    else if (tag.field === 2) nanos = BigInt.asIntN(32, reader.readVarint());
    else reader.skip(tag.wireType);
  }
  return { bodyBytes: body.length, seconds, nanos };
}

describe("timestamps: encoder over the whole int64 range of seconds", () => {
  const LABELS = '{job="t"}';
  const estimate = (entry: LogEntry): number => {
    const batcher = new Batcher(1e9);
    batcher.add(LABELS, entry, 0);
    return batcher.take().bytes;
  };
  // The batcher's estimate exceeds the encoded size by a constant for one short stream.
  const slack = estimate({ sec: 0, nsec: 0, line: "x" }) - encodePushRequest([{ labels: LABELS, entries: [{ sec: 0, nsec: 0, line: "x" }] }]).length;

  const edges = [
    0, 1, -1, 127, 128, -128, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 35 - 1, 2 ** 35,
    2 ** 53 - 1, 2 ** 53, -(2 ** 53), -(2 ** 53) + 1, 2 ** 56, 2 ** 62, -(2 ** 62), 2 ** 63 - 1024 /* the largest double below 2^63 */,
    -(2 ** 63) /* int64 min */, MIN_ENTRY_SEC, MAX_ENTRY_SEC,
  ];
  const nanoEdges = [0, 1, 127, 128, 999_999_999, 2 ** 28, 2 ** 28 - 1];

  function check(sec: number, nsec: number): void {
    const entry = { sec, nsec, line: "x" };
    const encoded = encodePushRequest([{ labels: LABELS, entries: [entry] }]);
    const label = `${sec} s + ${nsec} ns`;
    const decoded = encodedTimestamp(encoded);
    expect(decoded.seconds, label).to.equal(BigInt(sec));
    expect(decoded.nanos, label).to.equal(BigInt(nsec));
    expect(decoded.bodyBytes, label).to.equal(timestampBodySize(sec, nsec));
    expect(estimate(entry) - encoded.length, label).to.equal(slack);
    expect(Buffer.from(encoded).equals(Buffer.from(encodeWithProtobufjsReflection([{ labels: LABELS, entries: [entry] }]))), label).to.equal(true);
  }

  it("agrees with its estimate and the reference decoders at the edge values", () => {
    for (const sec of edges) for (const nsec of nanoEdges) check(sec, nsec);
  });

  it("agrees with its estimate and the reference decoders for 4 000 random seconds of every magnitude", () => {
    const random = seededRandom(1313);
    for (let i = 0; i < 4_000; i++) {
      // A bit length from 0 to 63 first, so that small and huge magnitudes are equally common.
      const bits = Math.floor(random() * 64);
      const magnitude = Math.floor(random() * 2 ** bits);
      const sec = random() < 0.5 ? -magnitude : magnitude;
      if (sec >= 2 ** 63) continue;
      check(sec, random() < 0.1 ? 0 : Math.floor(random() * 1e9));
    }
  });

  it("refuses what int64 seconds and 0..999 999 999 nanos cannot hold instead of writing garbage", () => {
    const bad: Array<[number, number]> = [
      [2 ** 63, 0], [1e25, 0], [1e300, 0], [-1e300, 0], [-(2 ** 63) - 4096, 0], [NaN, 0], [Infinity, 0], [-Infinity, 0], [1.5, 0],
      [0, 1e9], [0, -1], [0, 0.5], [0, NaN], [1_700_000_000, 2 ** 32],
    ];
    for (const [sec, nsec] of bad) {
      expect(() => encodePushRequest([{ labels: LABELS, entries: [{ sec, nsec, line: "x" }] }]), `${sec} s + ${nsec} ns`).to.throw(RangeError, /cannot encode the timestamp/);
    }
    // The shared writer is usable afterwards.
    check(1_700_000_000, 5);
  });
});

describe("timestamps: the pipeline keeps unstorable times out of every push", () => {
  it("fails only the record whose entry has a time Loki cannot store, naming it", async () => {
    const pushed: LogEntry[] = [];
    const record = (describe: string, entries: LogEntry[]): SourceRecord => ({ describe, groups: () => [{ labels: { job: "x" }, entries }] });
    const log = new MemoryLog();
    const result = await ship([
      record("good-1", [{ sec: 1_700_000_000, nsec: 0, line: "a" }]),
      record("bad", [{ sec: 1_700_000_000, nsec: 0, line: "b" }, { sec: 1e22, nsec: 0, line: "from a stage gone wrong" }]),
      record("good-2", [{ sec: 1_700_000_001, nsec: 0, line: "c" }]),
    ], {
      batchSize: 1e6, pushConcurrency: 1, structuredMetadata: [], printLogLine: false, maxLineSize: 262144, maxLineSizeAction: "truncate", log,
      labelsFor: () => ({ key: '{job="x"}', labels: { job: "x" } }),
      pusher: { push: async (request) => { for (const s of decodePushBody(request.body)) pushed.push(...s.entries); return { outcome: "ok", pushes: 1, retries: 0, splits: 0, rejectedEntries: 0 }; } },
      deadline: { remainingMs: () => 60_000 },
    });
    expect(result.failed).to.deep.equal([1]);
    expect(pushed.map((e) => e.line)).to.include.members(["a", "c"]).and.not.include("from a stage gone wrong");
    const error = log.lines.find((l) => l.level === "error");
    expect(error?.attributes).to.include({ record: "bad", errorName: "BadRecordError" });
    expect(String(error?.attributes?.error)).to.match(/1e\+22 s \+ 0 ns .* not a time Loki can store .*"from a stage gone wrong"/);
  });
});

describe("timestamps through the handler (local Loki receiver)", () => {
  const { loki, configure } = useHandlerWithLoki();
  const context = () => ({ awsRequestId: "req-ts", getRemainingTimeInMillis: () => 30_000 });

  before(() => configure());

  const payload = (group: string, timestamp: unknown) =>
    gzipBase64(cloudWatchPayload(group, [{ timestamp: T0, message: `${group} first` }, { timestamp: timestamp as number, message: `${group} second` }]));

  it("fails only the Kinesis records with times Loki cannot store; their neighbours arrive in the same push", async () => {
    const result = await handler(kinesisEvent(
      kinesisRecord("1", payload("/good/a", T0 + 1)),
      kinesisRecord("2", payload("/bad/huge", 1e25)),
      kinesisRecord("3", payload("/bad/huger", 1e300)),
      kinesisRecord("4", payload("/bad/negative", -1e25)),
      kinesisRecord("5", payload("/bad/string", String(T0))),
      kinesisRecord("6", Buffer.from("raw line\n").toString("base64"), 1e300),
      kinesisRecord("7", payload("/good/b", T0 + 2)),
      kinesisRecord("8", Buffer.from("raw line 2\n").toString("base64")),
    ), context());
    expect(result).to.deep.equal({ batchItemFailures: ["2", "3", "4", "5", "6"].map((itemIdentifier) => ({ itemIdentifier })) });
    expect(loki.requests.map((r) => r.status)).to.deep.equal([204]);
    expect(countEntries(loki.acceptedPushes())).to.include({ total: 5, duplicates: 0 });
  });

  it("fails an asynchronous CloudWatch event whose timestamp Loki cannot store, so it is retried and dead-lettered", async () => {
    let caught: unknown;
    try {
      await handler(cloudWatchEvent(cloudWatchPayload("/g", [{ timestamp: 1e25, message: "x" }])), context());
    } catch (err) {
      caught = err;
    }
    expect((caught as Error)?.message).to.match(/^1 of 1 cloudwatch records failed/);
    expect(loki.requests).to.have.length(0);
  });
});
