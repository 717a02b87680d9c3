import { expect } from "chai";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createLabelPipeline } from "../handler/labels/pipeline";
import { compileRelabelConfigs } from "../handler/labels/relabel";
import { Batcher, Stream } from "../handler/loki/batch";
import type { PushReport } from "../handler/loki/client";
import { decodePushBody } from "../handler/loki/decode";
import type { EncodedPush } from "../handler/loki/encode";
import { Pusher, ship, ShipOptions } from "../handler/pipeline";
import { InvocationDeadline } from "../handler/deadline";
import { compileStages } from "../handler/stages/index";
import { StageRunner } from "../handler/stages/runner";
import { BadRecordError, EntryGroup, LogEntry, SourceRecord } from "../handler/types";
import { MemoryLog } from "./support/events";
import { HangingLoki, within } from "./support/hanging-pusher";

/** A Loki stand-in that records pushes and answers with a scripted outcome per push. */
class FakeLoki implements Pusher {
  readonly pushes: Stream[][] = [];
  constructor(private readonly outcomes: PushReport["outcome"][] = [], private readonly delayMs = 0) {}
  /** Records the streams its body holds (the pipeline hands over the encoded push only). */
  async push(request: EncodedPush): Promise<PushReport> {
    this.pushes.push(decodePushBody(request.body));
    const outcome = this.outcomes.shift() ?? "ok";
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return { outcome, pushes: 1, retries: 0, splits: 0, rejectedEntries: outcome === "rejected" ? request.entries : 0 };
  }
  lines(): string[] {
    return this.pushes.flatMap((p) => p.flatMap((s) => s.entries.map((e) => e.line)));
  }
}

function entry(line: string, sec = 1763798400): LogEntry {
  return { sec, nsec: 0, line };
}

function record(id: string, groups: EntryGroup[] | (() => never)): SourceRecord {
  return {
    itemIdentifier: id,
    describe: `record ${id}`,
    groups: () => (typeof groups === "function" ? groups() : groups),
  };
}

/** A stream source (like an S3 object) handing out one entry per array. */
async function* slowly(entries: LogEntry[]): AsyncIterable<LogEntry[]> {
  for (const e of entries) yield [e];
}

function options(pusher: Pusher, overrides: Partial<ShipOptions> = {}): ShipOptions {
  return {
    batchSize: 1_000_000,
    pushConcurrency: 1,
    structuredMetadata: [],
    printLogLine: false,
    maxLineSize: 262144,
    maxLineSizeAction: "truncate",
    labelsFor: createLabelPipeline({ extraLabels: {}, dropLabels: [], relabelRules: [] }),
    pusher,
    deadline: { remainingMs: () => 60_000 },
    log: new MemoryLog(),
    ...overrides,
  };
}

/** A BATCH_SIZE that flushes after two entries of two characters in one stream `{app="x"}`. */
function twoEntryBatch(): number {
  const batcher = new Batcher(Number.MAX_SAFE_INTEGER);
  const labels = createLabelPipeline({ extraLabels: {}, dropLabels: [], relabelRules: [] })({ app: "x" })?.key as string;
  batcher.add(labels, entry("a1"), 0);
  batcher.add(labels, entry("a2"), 0);
  return batcher.bytes;
}

describe("shipping pipeline", () => {
  it("reads entry groups given as an array, a synchronous iterable or an asynchronous stream of arrays alike", async () => {
    const lines = ["l1", "l2", "l3", "l4", "l5"];
    function* generated(): Iterable<LogEntry> {
      for (const line of lines) yield entry(line);
    }
    const kinds: [string, () => EntryGroup["entries"]][] = [
      ["array", () => lines.map((line) => entry(line))],
      ["synchronous iterable", generated],
      ["asynchronous stream of arrays", () => slowly(lines.map((line) => entry(line)))],
    ];
    for (const [kind, entries] of kinds) {
      // Two entries per push: every group is read across pushes, each awaited before reading on.
      const loki = new FakeLoki();
      const result = await ship([record("a", [{ labels: { app: "x" }, entries: entries() }])], options(loki, { batchSize: twoEntryBatch() }));
      expect(loki.lines(), kind).to.deep.equal(lines);
      expect(loki.pushes, kind).to.have.length(3);
      expect(result.failed, kind).to.deep.equal([]);
      expect(result.stats.entries, kind).to.equal(5);
    }
  });

  it("pushes every entry of every record once, grouped into streams by final labels", async () => {
    const loki = new FakeLoki();
    const result = await ship([
      record("a", [{ labels: { app: "x" }, entries: [entry("1"), entry("2")] }]),
      record("b", [{ labels: { app: "y" }, entries: slowly([entry("3")]) }, { labels: { app: "x" }, entries: [entry("4")] }]),
    ], options(loki));
    expect(result.failed).to.deep.equal([]);
    expect(loki.pushes).to.have.length(1);
    const streams = Object.fromEntries(loki.pushes[0].map((s) => [s.labels, s.entries.map((e) => e.line)]));
    expect(streams).to.deep.equal({ '{app="x"}': ["1", "2", "4"], '{app="y"}': ["3"] });
    expect(result.stats).to.include({ records: 2, entries: 4, streams: 2, pushes: 1, dropped: 0, failedRecords: 0 });
  });

  it("flushes as batches fill so that memory stays bounded", async () => {
    const loki = new FakeLoki();
    const many = Array.from({ length: 100 }, (_, i) => entry(`line ${i} `.padEnd(100, "x")));
    await ship([record("a", [{ labels: { app: "x" }, entries: slowly(many) }])], options(loki, { batchSize: 1000 }));
    expect(loki.pushes.length).to.be.greaterThanOrEqual(10);
    expect(loki.lines()).to.deep.equal(many.map((e) => e.line));
  });

  it("fails only the bad record and ships the others", async () => {
    const loki = new FakeLoki();
    const log = new MemoryLog();
    const result = await ship([
      record("a", [{ labels: { app: "x" }, entries: [entry("good 1")] }]),
      record("b", () => { throw new BadRecordError("corrupt gzip"); }),
      record("c", [{ labels: { app: "x" }, entries: [entry("good 2")] }]),
    ], options(loki, { log }));
    expect(result.failed).to.deep.equal([1]);
    expect(loki.lines()).to.deep.equal(["good 1", "good 2"]);
    expect(log.lines.find((l) => l.level === "error")?.attributes).to.include({ record: "record b", error: "corrupt gzip" });
  });

  it("fails the records whose entries did not reach Loki, and every record after them, without reading them", async () => {
    const loki = new FakeLoki(["ok", "failed"]);
    let readAfterFailure = false;
    const result = await ship([
      record("a", [{ labels: { app: "x" }, entries: slowly([entry("a".repeat(600))]) }]),
      record("b", [{ labels: { app: "x" }, entries: slowly([entry("b".repeat(600))]) }]),
      record("c", [{ labels: { app: "x" }, entries: slowly([entry("c".repeat(600))]) }]),
      { itemIdentifier: "d", describe: "d", groups: () => { readAfterFailure = true; return []; } },
    ], options(loki, { batchSize: 500 }));
    expect(result.failed).to.deep.equal([1, 2, 3]);
    expect(readAfterFailure).to.equal(false);
    expect(result.stats.failedRecords).to.equal(3);
  });

  it("fails a completed record whose entries were still batched when a concurrent push failed", async () => {
    const loki = new FakeLoki(["failed"], 20);
    async function* afterPushFailed(): AsyncIterable<LogEntry[]> {
      await new Promise((resolve) => setTimeout(resolve, 60));
      yield [entry("c")];
    }
    const result = await ship([
      record("a", [{ labels: { app: "x" }, entries: slowly([entry("a".repeat(600))]) }]),
      record("b", [{ labels: { app: "x" }, entries: slowly([entry("b")]) }]),
      record("c", [{ labels: { app: "x" }, entries: afterPushFailed() }]),
      record("d", [{ labels: { app: "x" }, entries: slowly([entry("d")]) }]),
    ], options(loki, { batchSize: 500, pushConcurrency: 2 }));
    expect(loki.pushes).to.have.length(1, "nothing is pushed once Loki is down");
    expect(result.failed).to.deep.equal([0, 1, 2, 3]);
  });

  it("counts entries Loki rejected for good without failing their records", async () => {
    const loki = new FakeLoki(["rejected"]);
    const result = await ship([record("a", [{ labels: { app: "x" }, entries: [entry("too old")] }])], options(loki));
    expect(result.failed).to.deep.equal([]);
    expect(result.stats.rejected).to.equal(1);
  });

  it("measures the delivery lag: the ages of the newest and oldest entry acknowledged, at the time their push was acknowledged", async () => {
    const T = 1763798400;
    const acks = [T * 1000 + 50_000, T * 1000 + 90_000, T * 1000 + 95_000];
    const loki = new FakeLoki(["ok", "failed"]);
    // Two batches (two entries each): the first acknowledged at T+50 s, the second never stored.
    const result = await ship([
      record("a", [{ labels: { app: "x" }, entries: [entry("a1", T + 10), { sec: T + 3, nsec: 500_000_000, line: "a2" }] }]),
      record("b", [{ labels: { app: "x" }, entries: [entry("b1", T + 40), entry("b2", T + 1)] }]),
    ], options(loki, { batchSize: twoEntryBatch(), now: () => acks.shift() as number }));
    expect(loki.pushes).to.have.length(2);
    expect(result.failed).to.deep.equal([1]);
    expect(result.stats).to.include({ lagNewestMs: 40_000, lagOldestMs: 46_500, shipped: 2 });
  });

  it("takes each end of the lag from the push that carried it", async () => {
    const T = 1763798400;
    const acks = [T * 1000 + 20_000, T * 1000 + 70_000];
    const loki = new FakeLoki();
    const result = await ship([
      record("a", [{ labels: { app: "x" }, entries: [entry("a1", T + 5), entry("a2", T + 1)] }]),
      record("b", [{ labels: { app: "x" }, entries: [entry("b1", T + 30), entry("b2", T + 8)] }]),
    ], options(loki, { batchSize: twoEntryBatch(), now: () => acks.shift() as number }));
    expect(result.stats).to.include({ lagNewestMs: 40_000, lagOldestMs: 19_000, shipped: 4 });
  });

  it("reports no lag when Loki acknowledged nothing", async () => {
    const result = await ship([record("a", [{ labels: { app: "x" }, entries: [entry("x")] }])], options(new FakeLoki(["failed"])));
    expect(result.stats.lagNewestMs).to.equal(undefined);
    expect(result.stats.lagOldestMs).to.equal(undefined);
    expect(result.stats.shipped).to.equal(0);
  });

  it("drops and counts entries whose label set relabeling empties", async () => {
    const loki = new FakeLoki();
    const labelsFor = createLabelPipeline({
      extraLabels: {},
      dropLabels: [],
      relabelRules: compileRelabelConfigs([{ source_labels: ["app"], regex: "noisy", action: "drop" }]),
    });
    const result = await ship([
      record("a", [{ labels: { app: "noisy" }, entries: [entry("1"), entry("2")] }, { labels: { app: "quiet" }, entries: [entry("3")] }]),
    ], options(loki, { labelsFor }));
    expect(loki.lines()).to.deep.equal(["3"]);
    expect(result.stats).to.include({ entries: 3, dropped: 2 });
  });

  it("attaches only the structured metadata the user asked for", async () => {
    const loki = new FakeLoki();
    await ship([record("a", [{
      labels: { app: "x" },
      metadata: { cloudwatch_log_stream: "s-1", cloudwatch_owner: "123" },
      entries: [{ ...entry("1"), metadata: { cloudwatch_event_id: "e-1" } }, entry("2")],
    }])], options(loki, { structuredMetadata: ["cloudwatch_log_stream", "cloudwatch_event_id"] }));
    const entries = loki.pushes[0][0].entries;
    expect(entries[0].metadata).to.deep.equal({ cloudwatch_log_stream: "s-1", cloudwatch_event_id: "e-1" });
    expect(entries[1].metadata).to.deep.equal({ cloudwatch_log_stream: "s-1" });
  });

  it("prints shipped lines only with PRINT_LOG_LINE", async () => {
    const quiet = new MemoryLog();
    await ship([record("a", [{ labels: { app: "x" }, entries: [entry("hello")] }])], options(new FakeLoki(), { log: quiet }));
    expect(quiet.messages("info")).to.not.include("log line");
    const loud = new MemoryLog();
    await ship([record("a", [{ labels: { app: "x" }, entries: [entry("hello")] }])], options(new FakeLoki(), { log: loud, printLogLine: true }));
    expect(loud.lines.find((l) => l.message === "log line")?.attributes).to.deep.equal({ labels: '{app="x"}', line: "hello" });
  });
});

/** Blocks the thread for `ms`: CPU work that does not yield, as a starved function's parsing looks to its timers. */
function busy(ms: number): void {
  for (const end = Date.now() + ms; Date.now() < end;);
}

describe("shipping pipeline: what a push in flight holds", () => {
  it("keeps a batch's encoded body, not its entries: they are garbage while Loki answers", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const made: WeakRef<LogEntry>[] = [];
    // Entries made as they are read (as a stream's), so that only the pipeline can hold them.
    function* entries(): Iterable<LogEntry> {
      for (let i = 0; i < 200; i++) {
        const created = entry(`line ${i} ${"x".repeat(100)}`);
        made.push(new WeakRef(created));
        yield created;
      }
    }
    const answers: ((report: PushReport) => void)[] = [];
    const loki: Pusher = { push: () => new Promise((resolve) => answers.push(resolve)) };
    // Two pushes of 50 entries in flight, the third batch waits for one of them to answer.
    const batchSize = (() => {
      const batcher = new Batcher(Number.MAX_SAFE_INTEGER);
      for (let i = 0; i < 50; i++) batcher.add('{app="x"}', entry(`line ${i} ${"x".repeat(100)}`), 0);
      return batcher.bytes - 1;
    })();
    const shipping = ship([record("r", [{ labels: { app: "x" }, entries: entries() }])], options(loki, { batchSize, pushConcurrency: 2 }));
    for (let i = 0; i < 100 && answers.length < 2; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(answers, "pushes in flight").to.have.length(2);
    // WeakRef targets live to the end of the current job.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const held = made.slice(0, 100).filter((ref) => ref.deref() !== undefined).length;
    expect(held, "entries of the two batches in flight still reachable").to.equal(0);
    while (answers.length > 0) {
      answers.shift()!({ outcome: "ok", pushes: 1, retries: 0, splits: 0, rejectedEntries: 0 });
      for (let i = 0; i < 10 && answers.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    }
    const result = await shipping;
    expect(result.failed).to.deep.equal([]);
    expect(result.stats).to.include({ entries: 200, shipped: 200, pushes: 4 });
  });
});

describe("shipping pipeline at the invocation's cutoff", () => {
  it("answers at the cutoff without waiting for the pushes still in flight, and fails their records", async () => {
    const loki = new HangingLoki();
    // Cutoff 200 ms from now; the pushes would hold the answer for ever.
    const deadline = InvocationDeadline.in(300, 100);
    try {
      const result = await within(ship([
        record("a", [{ labels: { app: "x" }, entries: [entry("a1")] }]),
        record("b", [{ labels: { app: "y" }, entries: slowly([entry("b1")]) }]),
      ], options(loki, { pushConcurrency: 4, deadline: deadline.usable })), 5000, "ship");
      expect(deadline.signal.aborted, "answered at the cutoff, not before").to.equal(true);
      expect(loki.pushes).to.equal(1);
      expect(result.failed).to.deep.equal([0, 1]);
      expect(result.stats).to.include({ failedRecords: 2, shipped: 0 });
      // An answer that comes after ship answered changes nothing it reported.
      loki.answer("ok");
      await new Promise((resolve) => setImmediate(resolve));
      expect(result.stats).to.include({ failedRecords: 2, shipped: 0, pushes: 0 });
    } finally {
      deadline.dispose();
    }
  });

  it("stops waiting for a free push slot at the cutoff and does not read on", async () => {
    const loki = new HangingLoki();
    const deadline = InvocationDeadline.in(300, 100);
    let readAfterCutoff = false;
    async function* twoBatches(): AsyncIterable<LogEntry[]> {
      yield [entry("a".repeat(600))];
      yield [entry("b".repeat(600))];
      readAfterCutoff = true;
      yield [entry("c".repeat(600))];
    }
    try {
      const result = await within(ship([
        record("a", [{ labels: { app: "x" }, entries: twoBatches() }]),
        record("b", [{ labels: { app: "x" }, entries: [entry("b1")] }]),
      ], options(loki, { batchSize: 500, pushConcurrency: 1, deadline: deadline.usable })), 5000, "ship");
      expect(loki.pushes).to.equal(1);
      expect(readAfterCutoff).to.equal(false);
      expect(result.failed).to.deep.equal([0, 1]);
    } finally {
      deadline.dispose();
    }
  });

  it("stops reading at the cutoff by the clock when reading never yields to the cutoff's timer", async () => {
    const loki = new FakeLoki();
    // Every batch is at hand (an object's bytes already buffered): the loop runs on microtasks,
    // so the signal's timer cannot fire until the object is read to its end.
    let batches = 0;
    async function* buffered(): AsyncIterable<LogEntry[]> {
      for (; batches < 100; batches++) {
        busy(5);
        yield [entry(`line ${batches}`)];
      }
    }
    const deadline = InvocationDeadline.in(150, 50);
    try {
      const result = await ship([record("a", [{ labels: { app: "x" }, entries: buffered() }])], options(loki, { deadline: deadline.usable }));
      expect(result.failed).to.deep.equal([0]);
      expect(batches, "batches read").to.be.lessThan(100);
      expect(loki.pushes).to.have.length(0);
    } finally {
      deadline.dispose();
    }
  });
});

describe("shipping pipeline: LOKI_STAGE_CONFIGS", () => {
  const stages = (json: unknown[]) => new StageRunner(compileStages(json, "LOKI_STAGE_CONFIGS"), new MemoryLog(), () => Date.UTC(2025, 10, 22));

  it("runs the stages after relabeling: entries go to the stream of their new labels, with their new line, time and metadata", async () => {
    const loki = new FakeLoki();
    const labelsFor = createLabelPipeline({ extraLabels: { env: "prod" }, dropLabels: [], relabelRules: compileRelabelConfigs([{ source_labels: ["app"], target_label: "service" }]) });
    const runner = stages([
      { json: { expressions: { level: "", msg: "", rid: "request_id" } } },
      { labels: { level: "" } },
      { structured_metadata: { request_id: "rid" } },
      { labeldrop: ["app"] },
      { output: { source: "msg" } },
    ]);
    const result = await ship([record("a", [{ labels: { app: "x" }, entries: [
      entry('{"level":"info","msg":"one","request_id":"r1"}'),
      entry('{"level":"error","msg":"two","request_id":"r2"}'),
      entry('{"level":"info","msg":"three"}'),
      entry("not json"),
    ] }])], options(loki, { labelsFor, stages: runner }));
    expect(result.failed).to.deep.equal([]);
    const streams = Object.fromEntries(loki.pushes[0].map((s) => [s.labels, s.entries.map((e) => [e.line, e.metadata])]));
    expect(streams).to.deep.equal({
      '{env="prod", level="info", service="x"}': [["one", { request_id: "r1" }], ["three", undefined]],
      '{env="prod", level="error", service="x"}': [["two", { request_id: "r2" }]],
      '{env="prod", service="x"}': [["not json", undefined]],
    });
  });

  it("counts the entries stages drop, by reason, including lines and label sets left empty", async () => {
    const loki = new FakeLoki();
    const runner = stages([
      { drop: { expression: "GET /health", drop_counter_reason: "health" } },
      { regex: { expression: "^(?P<rest>.*)$" } },
      { replace: { expression: "^(secret.*)$", replace: "" } },
      { labeldrop: ["app"] },
      { static_labels: { kept: "yes" } },
      { regex: { expression: "^(?P<drop_all>nolabels)$" } },
      { labelallow: ["nothing_matches_when_dropping"] },
    ]);
    const result = await ship([record("a", [{ labels: { app: "x" }, entries: [entry("GET /health 200"), entry("secret stuff"), entry("nolabels"), entry("")] }])], options(loki, { stages: runner }));
    expect(result.stats.stageDropped).to.deep.equal({ health: 1, empty_line: 1, empty_labels: 2 });
    expect(loki.pushes).to.have.length(0);
  });

  it("keeps an entry whose line was already empty, and never changes the source's entry objects", async () => {
    const loki = new FakeLoki();
    const original = entry("");
    const other = entry("x");
    await ship([record("a", [{ labels: { app: "x" }, entries: [original, other] }])], options(loki, { stages: stages([{ static_labels: { s: "1" } }, { replace: { expression: "(x)", replace: "y" } }]) }));
    expect(loki.lines()).to.deep.equal(["", "y"]);
    expect(other.line).to.equal("x");
    expect(loki.pushes[0].map((s) => s.labels)).to.deep.equal(['{app="x", s="1"}']);
  });

  it("a stage's change to labels or metadata stays with its entry: the stream's label set, the group's metadata and the other entries keep theirs", async () => {
    const loki = new FakeLoki();
    const labelsFor = createLabelPipeline({ extraLabels: {}, dropLabels: [], relabelRules: [] });
    const runner = stages([
      { json: { expressions: { level: "", rid: "", team: "" } } },
      { labels: { level: "", app: "team" } },
      { structured_metadata: { request_id: "rid" } },
      { static_labels: { app: "x" } },
      { labeldrop: ["absent"] },
    ]);
    const group = { labels: { app: "x" }, metadata: { cloudwatch_log_stream: "s-1" }, entries: [
      entry('{"level":"error","rid":"r1","team":"y"}'),
      entry('{"plain":true}'),
      entry('{"level":"warn","team":"x"}'),
      entry("not json"),
    ] };
    await ship([record("a", [group])], options(loki, { labelsFor, stages: runner, structuredMetadata: ["cloudwatch_log_stream"] }));
    const streams = Object.fromEntries(loki.pushes[0].map((s) => [s.labels, s.entries.map((e) => e.metadata)]));
    expect(streams).to.deep.equal({
      '{app="x", level="error"}': [{ cloudwatch_log_stream: "s-1", request_id: "r1" }],
      '{app="x"}': [{ cloudwatch_log_stream: "s-1" }, { cloudwatch_log_stream: "s-1" }],
      '{app="x", level="warn"}': [{ cloudwatch_log_stream: "s-1" }],
    });
    expect(labelsFor({ app: "x" })?.labels).to.deep.equal({ app: "x" });
    expect(group.metadata).to.deep.equal({ cloudwatch_log_stream: "s-1" });
  });

  it("answers a pathological stage regex on a 100 KB hostile line (linear time)", async () => {
    const loki = new FakeLoki();
    const hostile = "a".repeat(100_000) + "b";
    await ship([record("a", [{ labels: { app: "x" }, entries: [entry(hostile)] }])], options(loki, { stages: stages([{ drop: { expression: "(a+)+$" } }, { regex: { expression: "(?P<x>(a|aa)+$)" } }]) }));
    expect(loki.lines()).to.deep.equal([hostile]);
  });
});

describe("shipping pipeline: a push that throws instead of reporting", () => {
  /** Pushes that throw (as Node does for a request it refuses to send, e.g. a header with a line break). */
  class ThrowingLoki implements Pusher {
    pushes = 0;
    async push(): Promise<PushReport> {
      this.pushes++;
      throw new TypeError('Invalid character in header content ["Authorization"]');
    }
  }

  for (const pushConcurrency of [1, 4]) {
    it(`fails every record of the batch, none acknowledged (PUSH_CONCURRENCY ${pushConcurrency})`, async () => {
      const loki = new ThrowingLoki();
      const log = new MemoryLog();
      const records = [1, 2, 3, 4].map((i) => record(String(i), [{ labels: { app: "x" }, entries: [entry(`line ${i}`)] }]));
      // One batch for all four records: they are all read before the only push.
      const result = await ship(records, options(loki, { pushConcurrency, log }));
      expect(result.failed).to.deep.equal([0, 1, 2, 3]);
      expect(result.stats.shipped).to.equal(0);
      expect(loki.pushes).to.equal(1);
      expect(log.lines.some((line) => line.level === "error" && /failed with an error instead of an answer/.test(line.message))).to.equal(true);
    });
  }

  it("fails the records of every batch once pushes throw, and the records after them", async () => {
    const loki = new ThrowingLoki();
    const records = [1, 2, 3].map((i) => record(String(i), [{ labels: { app: "x" }, entries: [entry(`line ${i}`)] }]));
    // BATCH_SIZE 1: every record's entry is its own push.
    const result = await ship(records, options(loki, { batchSize: 1, pushConcurrency: 2 }));
    expect(result.failed).to.deep.equal([0, 1, 2]);
  });
});

describe("shipping pipeline: tenants set by a tenant stage", () => {
  /** Records each push's tenant (undefined: TENANT_ID) and the lines it held. */
  class TenantLoki implements Pusher {
    readonly pushes: Array<{ tenant: string | undefined; lines: string[] }> = [];
    constructor(private readonly refused: ReadonlySet<string> = new Set(), private readonly rateLimited: ReadonlySet<string> = new Set()) {}
    async push(request: EncodedPush, _deadline: unknown, tenant?: string): Promise<PushReport> {
      this.pushes.push({ tenant, lines: decodePushBody(request.body).flatMap((s) => s.entries.map((e) => e.line)) });
      if (tenant !== undefined && this.refused.has(tenant)) return { outcome: "failed", pushes: 1, retries: 0, splits: 0, rejectedEntries: 0, status: 401, message: "no", fix: "check the tenant" };
      // The client gave up after its retries: the tenant is over its ingestion limits.
      if (tenant !== undefined && this.rateLimited.has(tenant)) return { outcome: "failed", pushes: 6, retries: 5, splits: 0, rejectedEntries: 0, status: 429, message: "Ingestion rate limit exceeded for user " + tenant };
      return { outcome: "ok", pushes: 1, retries: 0, splits: 0, rejectedEntries: 0 };
    }
  }
  /** The first word of a line is its tenant; "-" leaves TENANT_ID. */
  const byFirstWord = () => new StageRunner(compileStages([{ regex: { expression: "^(?P<t>[a-z]+)" } }, { tenant: { source: "t" } }], "LOKI_STAGE_CONFIGS"), new MemoryLog());

  it("pushes each tenant's entries apart, and the held batches of all tenants stay under HELD_BATCHES x BATCH_SIZE", async () => {
    const loki = new TenantLoki();
    const lines = Array.from({ length: 60 }, (_, i) => `${["a", "b", "c", "-"][i % 4]} line ${String(i).padStart(2, "0")}`);
    const batchSize = 400;
    const result = await ship([record("r", [{ labels: { app: "x" }, entries: lines.map((l) => entry(l)) }])], options(loki, { stages: byFirstWord(), batchSize }));
    expect(result.failed).to.deep.equal([]);
    for (const push of loki.pushes) {
      const tenants = new Set(push.lines.map((l) => l.split(" ")[0]));
      expect(tenants.size, "one tenant per push").to.equal(1);
      expect(push.tenant ?? "-").to.equal([...tenants][0]);
    }
    expect(loki.pushes.flatMap((p) => p.lines).sort()).to.deep.equal([...lines].sort());
    // No tenant fills 400 bytes before the four of them hold 800 together: the largest is pushed early.
    const firstPushes = loki.pushes.slice(0, 2).map((p) => p.lines.length);
    expect(firstPushes.every((n) => n < lines.length / 4), `early pushes ${firstPushes}`).to.equal(true);
  });

  it("fails the records with entries for a refused tenant, delivers the others and stops pushing to that tenant", async () => {
    const loki = new TenantLoki(new Set(["b"]));
    const records = [
      record("1", [{ labels: { app: "x" }, entries: [entry("a 1"), entry("b 1")] }]),
      record("2", [{ labels: { app: "x" }, entries: [entry("a 2")] }]),
      record("3", [{ labels: { app: "x" }, entries: [entry("b 3"), entry("- 3")] }]),
    ];
    // BATCH_SIZE 1: every entry is its own push, so the refusal comes before record 3.
    const result = await ship(records, options(loki, { stages: byFirstWord(), batchSize: 1 }));
    expect(result.failed).to.deep.equal([0, 2]);
    expect(loki.pushes.filter((p) => p.tenant === "b")).to.have.length(1);
    expect(loki.pushes.filter((p) => p.tenant !== "b").flatMap((p) => p.lines)).to.deep.equal(["a 1", "a 2", "- 3"]);
  });

  it("a tenant still rate limited (429) after the retries fails only the records with entries for it: Loki's limits are per tenant, the others go on", async () => {
    const loki = new TenantLoki(new Set(), new Set(["b"]));
    const records = [
      record("1", [{ labels: { app: "x" }, entries: [entry("a 1"), entry("b 1")] }]),
      record("2", [{ labels: { app: "x" }, entries: [entry("a 2")] }]),
      record("3", [{ labels: { app: "x" }, entries: [entry("b 3"), entry("- 3")] }]),
      record("4", [{ labels: { app: "x" }, entries: [entry("c 4")] }]),
    ];
    const result = await ship(records, options(loki, { stages: byFirstWord(), batchSize: 1 }));
    expect(result.failed).to.deep.equal([0, 2]);
    expect(loki.pushes.filter((p) => p.tenant === "b")).to.have.length(1);
    expect(loki.pushes.filter((p) => p.tenant !== "b").flatMap((p) => p.lines)).to.deep.equal(["a 1", "a 2", "- 3", "c 4"]);
  });

  it("without tenants, a 429 that outlasts the retries still stops the invocation (Loki is overloaded for everyone)", async () => {
    const loki = new TenantLoki(new Set(), new Set(["b"]));
    const records = [record("1", [{ labels: { app: "x" }, entries: [entry("b 1")] }]), record("2", [{ labels: { app: "x" }, entries: [entry("b 2")] }])];
    // The tenant comes from a tenant stage's fixed value: every entry goes to b, and nothing else is left to deliver.
    const result = await ship(records, options(loki, { stages: new StageRunner(compileStages([{ tenant: { value: "b" } }], "LOKI_STAGE_CONFIGS"), new MemoryLog()), batchSize: 1, multiTenant: false }));
    expect(result.failed).to.deep.equal([0, 1]);
    expect(loki.pushes).to.have.length(1);
  });
});
