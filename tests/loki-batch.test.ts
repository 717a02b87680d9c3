import { expect } from "chai";
import type { LogEntry } from "../handler/types";
import { Batcher } from "../handler/loki/batch";
import { encodePushRequest } from "../handler/loki/encode";
import { splitInHalves } from "../handler/loki/split";

const entry = (sec: number, nsec: number, line: string, metadata?: Record<string, string>): LogEntry =>
  metadata === undefined ? { sec, nsec, line } : { sec, nsec, line, metadata };

describe("loki batch: Batcher", () => {
  it("groups entries by label string, streams in first-seen order", () => {
    const batcher = new Batcher(1 << 20);
    batcher.add('{a="1"}', entry(1, 0, "one"), 0);
    batcher.add('{a="2"}', entry(1, 0, "two"), 0);
    batcher.add('{a="1"}', entry(2, 0, "three"), 1);
    const batch = batcher.take();
    expect(batch.streams.map((s) => [s.labels, s.entries.map((e) => e.line)])).to.deep.equal([
      ['{a="1"}', ["one", "three"]],
      ['{a="2"}', ["two"]],
    ]);
    expect(batch.entries).to.equal(3);
  });

  it("sorts each stream by seconds then nanoseconds", () => {
    const batcher = new Batcher(1 << 20);
    const times: Array<[number, number]> = [
      [5, 0],
      [3, 999_999_999],
      [4, 1],
      [3, 5],
      [4, 0],
    ];
    for (const [sec, nsec] of times) batcher.add("{}", entry(sec, nsec, `${sec}.${nsec}`), 0);
    expect(batcher.take().streams[0].entries.map((e) => [e.sec, e.nsec])).to.deep.equal([
      [3, 5],
      [3, 999_999_999],
      [4, 0],
      [4, 1],
      [5, 0],
    ]);
  });

  it("keeps arrival order for equal timestamps, also when the stream needed sorting", () => {
    const batcher = new Batcher(1 << 20);
    for (const line of ["b1", "b2", "b3"]) batcher.add("{}", entry(2, 0, line), 0);
    batcher.add("{}", entry(1, 0, "a"), 0);
    for (const line of ["b4", "b5"]) batcher.add("{}", entry(2, 0, line), 0);
    expect(batcher.take().streams[0].entries.map((e) => e.line)).to.deep.equal(["a", "b1", "b2", "b3", "b4", "b5"]);
  });

  it("leaves entries that arrive in order untouched", () => {
    const batcher = new Batcher(1 << 20);
    const entries = [entry(1, 0, "a"), entry(1, 0, "b"), entry(1, 1, "c"), entry(2, 0, "d")];
    for (const e of entries) batcher.add("{}", e, 0);
    const taken = batcher.take().streams[0].entries;
    expect(taken).to.deep.equal(entries);
    taken.forEach((e, i) => expect(e).to.equal(entries[i]));
  });

  it("reports distinct owners in first-seen order", () => {
    const batcher = new Batcher(1 << 20);
    for (const owner of [3, 3, 1, 3, 0, 1]) batcher.add('{a="x"}', entry(1, 0, "l"), owner);
    expect(batcher.take().owners).to.deep.equal([3, 1, 0]);
  });

  it("asks for a flush once the batch reaches maxBytes, not before", () => {
    const line = "x".repeat(100);
    const batcher = new Batcher(1000);
    const answers: boolean[] = [];
    for (let i = 0; i < 12; i++) answers.push(batcher.add("{}", entry(1_700_000_000, i + 1, line), i));
    const firstTrue = answers.indexOf(true);
    expect(firstTrue).to.be.greaterThan(0);
    expect(answers.slice(0, firstTrue).every((a) => !a)).to.equal(true);
    expect(answers.slice(firstTrue).every((a) => a)).to.equal(true);
    // The entry that crossed the threshold made the batch reach maxBytes; without it it was below.
    const batch = batcher.take();
    expect(batch.bytes).to.be.at.least(1000);
    const before = new Batcher(1000);
    for (let i = 0; i < firstTrue; i++) before.add("{}", entry(1_700_000_000, i + 1, line), i);
    expect(before.bytes).to.be.below(1000);
  });

  it("flushes at exactly maxBytes (>=), like a threshold should", () => {
    const probe = new Batcher(1 << 20);
    probe.add("{}", entry(1, 0, "abc"), 0);
    const exact = new Batcher(probe.bytes);
    expect(exact.add("{}", entry(1, 0, "abc"), 0)).to.equal(true);
    const above = new Batcher(probe.bytes + 1);
    expect(above.add("{}", entry(1, 0, "abc"), 0)).to.equal(false);
  });

  it("counts bytes as an upper bound of the encoded request, a few bytes per stream over at most", () => {
    const batcher = new Batcher(1 << 30);
    const lines = ["", "ascii", "grüße 日本語 😀", "é".repeat(100), "x".repeat(20_000)];
    let n = 0;
    for (let s = 0; s < 7; s++) {
      for (const line of lines) {
        const metadata = n % 2 === 0 ? { stream: `s${s}`, ünï: "cødé", empty: "" } : undefined;
        batcher.add(`{job="j${s}", text="ü"}`, entry(1_700_000_000 + n, n % 3 === 0 ? 0 : n * 1000, line, metadata), s);
        n++;
      }
    }
    const batch = batcher.take();
    const encoded = encodePushRequest(batch.streams).length;
    expect(batch.bytes).to.be.at.least(encoded);
    // Empty metadata values are left out of the wire but counted (2 bytes each).
    const emptyValues = Math.ceil(n / 2);
    expect(batch.bytes - encoded).to.be.at.most(batch.streams.length * 8 + emptyValues * 2);
  });

  it("counts shared metadata objects, interleaved with others and with none, as if each entry had its own", () => {
    const shared: Record<string, string>[] = [{ cloudwatch_log_stream: "2025/11/22/[$LATEST]abc", cloudwatch_owner: "123456789012" }, { s3_key: "AWSLogs/é.gz" }];
    const withShared = new Batcher(1 << 30);
    const withCopies = new Batcher(1 << 30);
    for (let n = 0; n < 60; n++) {
      const metadata = n % 5 === 4 ? undefined : shared[n % 3 === 0 ? 1 : 0];
      withShared.add(`{s="${n % 2}"}`, entry(1_700_000_000 + n, 0, `line ${n}`, metadata), 0);
      withCopies.add(`{s="${n % 2}"}`, entry(1_700_000_000 + n, 0, `line ${n}`, metadata && { ...metadata }), 0);
    }
    const batch = withShared.take();
    expect(batch.bytes).to.equal(withCopies.take().bytes);
    expect(batch.bytes).to.be.at.least(encodePushRequest(batch.streams).length);
  });

  it("counts UTF-8 bytes, not UTF-16 units", () => {
    const ascii = new Batcher(1 << 20);
    ascii.add("{}", entry(1, 0, "a".repeat(300)), 0);
    const wide = new Batcher(1 << 20);
    wide.add("{}", entry(1, 0, "日".repeat(300)), 0);
    expect(wide.bytes - ascii.bytes).to.be.at.least(600);
  });

  it("knows the timestamps of its oldest and newest entry, across streams, in milliseconds (for the delivery lag)", () => {
    const batcher = new Batcher(1 << 20);
    batcher.add('{a="1"}', entry(1763798410, 250_000_000, "x"), 0);
    batcher.add('{a="2"}', entry(1763798400, 500_000, "y"), 1);
    batcher.add('{a="1"}', entry(1763798405, 0, "z"), 1);
    const batch = batcher.take();
    expect([batch.oldestMs, batch.newestMs]).to.deep.equal([1763798400000.5, 1763798410250]);
    batcher.add("{}", entry(1763798500, 0, "later"), 2);
    expect([batcher.take().oldestMs, batcher.take().oldestMs]).to.deep.equal([1763798500000, Infinity]);
  });

  it("take() empties the batcher", () => {
    const batcher = new Batcher(100);
    expect(batcher.isEmpty).to.equal(true);
    batcher.add("{}", entry(1, 0, "x".repeat(200)), 4);
    expect(batcher.isEmpty).to.equal(false);
    batcher.take();
    expect(batcher.isEmpty).to.equal(true);
    expect(batcher.take()).to.deep.equal({ streams: [], owners: [], entries: 0, bytes: 0, oldestMs: Infinity, newestMs: -Infinity });
    expect(batcher.add("{}", entry(1, 0, "y"), 5)).to.equal(false);
    expect(batcher.take().owners).to.deep.equal([5]);
  });

  it("rejects a batch size that is not a positive number", () => {
    for (const size of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new Batcher(size)).to.throw(RangeError);
  });
});

describe("loki batch: splitInHalves", () => {
  it("splits by entry count, dividing the stream that straddles the middle", () => {
    const streams = [
      { labels: "{a}", entries: [entry(1, 0, "a1"), entry(2, 0, "a2")] },
      { labels: "{b}", entries: [entry(1, 0, "b1"), entry(2, 0, "b2"), entry(3, 0, "b3")] },
      { labels: "{c}", entries: [entry(1, 0, "c1")] },
    ];
    const [first, second] = splitInHalves(streams);
    expect(first.map((s) => [s.labels, s.entries.map((e) => e.line)])).to.deep.equal([
      ["{a}", ["a1", "a2"]],
      ["{b}", ["b1"]],
    ]);
    expect(second.map((s) => [s.labels, s.entries.map((e) => e.line)])).to.deep.equal([
      ["{b}", ["b2", "b3"]],
      ["{c}", ["c1"]],
    ]);
  });

  it("splits a single stream and two single entries", () => {
    const [first, second] = splitInHalves([{ labels: "{}", entries: [entry(1, 0, "x"), entry(2, 0, "y"), entry(3, 0, "z")] }]);
    expect(first[0].entries.map((e) => e.line)).to.deep.equal(["x", "y"]);
    expect(second[0].entries.map((e) => e.line)).to.deep.equal(["z"]);
    const [one, other] = splitInHalves([
      { labels: "{a}", entries: [entry(1, 0, "x")] },
      { labels: "{b}", entries: [entry(1, 0, "y")] },
    ]);
    expect([one.length, other.length]).to.deep.equal([1, 1]);
  });
});
