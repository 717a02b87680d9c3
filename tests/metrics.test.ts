/**
 * The shipper's own metrics: the real handler against the local Loki receiver (and the local S3
 * server), its stdout read as CloudWatch Logs reads embedded-metric-format lines (tests/support/emf.ts).
 */
import { expect } from "chai";
import { gzipSync } from "node:zlib";
import { handler } from "../handler/index";
import { ShipperMetrics } from "../handler/metrics";
import type { ShipStats } from "../handler/pipeline";
import { EmfRecord, emfLinesOf, parseEmf, valueOf } from "./support/emf";
import { cloudWatchEvent, cloudWatchPayload, kinesisEvent, kinesisRecord } from "./support/events";
import { useHandlerWithLoki } from "./support/handler-harness";
import { s3Notification, s3Record } from "./support/s3-events";

const FUNCTION_NAME = "shipper-fn";
const BUCKET = "metrics-logs";
const ALB_KEY = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/06/01/123456789012_elasticloadbalancing_us-east-1_app.metrics-lb.50dc6c495c0c9188_20240601T1200Z_10.0.0.1_2et2e1mx.log.gz";
const MISSING_KEY = ALB_KEY.replace("metrics-lb", "gone-lb");

/** The metrics and units the README documents: a change to either must show up here. */
const UNITS: Record<string, string> = {
  Records: "Count", RecordsFailed: "Count", EntriesShipped: "Count", EntriesRejected: "Count", EntriesDropped: "Count",
  BytesShipped: "Bytes", Pushes: "Count", PushRetries: "Count", PushSplits: "Count",
  DeliveryLagNewest: "Milliseconds", DeliveryLagOldest: "Milliseconds",
};
const WITHOUT_LAG = Object.keys(UNITS).filter((name) => !name.startsWith("DeliveryLag"));

function context(remainingMs = 30_000) {
  const end = Date.now() + remainingMs;
  return { awsRequestId: "req-m", functionName: FUNCTION_NAME, getRemainingTimeInMillis: () => end - Date.now() };
}

function albLine(isoTime: string, i: number): string {
  return `http ${isoTime} app/metrics-lb/50dc6c495c0c9188 10.0.0.${i}:4000 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/item/${i} HTTP/1.1" "curl/8.0" - - arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/73e2d6bc24d8a067 "Root=1-6659c9c0-${String(i).padStart(24, "0")}" "-" "-" 0 ${isoTime} "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_0`;
}

/** The invocation's one EMF record, checked for the namespace, dimensions and units every line must carry. */
function onlyRecord(lines: string[], sourceKind: string, names: string[], namespace = "LambdaPromtail"): EmfRecord {
  expect(lines, "one EMF line per invocation").to.have.length(1);
  const record = parseEmf(lines[0]);
  expect(record.data.map((d) => d.name)).to.have.members(names);
  for (const datum of record.data) {
    expect(datum.namespace).to.equal(namespace);
    expect(datum.dimensions, "low-cardinality dimensions only").to.deep.equal({ service: FUNCTION_NAME, source_kind: sourceKind });
    expect(datum.unit, datum.name).to.equal(UNITS[datum.name]);
    expect(datum.values, datum.name).to.have.length(1);
  }
  return record;
}

/** Delivery lag must lie between the ages the entry had just before and just after the invocation. */
function expectLag(record: EmfRecord, name: string, entryMs: number, before: number, after: number): void {
  const lag = valueOf(record, name) as number;
  expect(lag, name).to.be.within(before - entryMs - 1, after - entryMs + 1);
}

describe("shipper metrics (embedded metric format)", function () {
  this.timeout(30_000);
  const harness = useHandlerWithLoki({ s3: { buckets: [BUCKET] } });
  const loki = harness.loki;
  const configure = (extra: Record<string, string | undefined> = {}): void => harness.configure({
    LOG_LEVEL: "error", AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME, POWERTOOLS_DEV: undefined, POWERTOOLS_METRICS_DISABLED: undefined, ...extra,
  });

  before(async () => {
    const now = Date.now();
    const lines = [albLine(new Date(now - 600_000).toISOString(), 1), albLine(new Date(now - 300_000).toISOString(), 2), albLine(new Date(now - 120_000).toISOString(), 3)];
    await harness.s3.put(BUCKET, ALB_KEY, gzipSync(lines.join("\n") + "\n"));
  });
  beforeEach(() => configure());

  it("CloudWatch: one line per invocation with every count, the lag of the newest and oldest entry, service and source kind", async () => {
    const now = Date.now();
    const events = [{ timestamp: now - 90_000, message: "oldest" }, { timestamp: now - 30_000, message: "middle" }, { timestamp: now - 5_000, message: "newest" }];
    const before = Date.now();
    const { lines, error } = await emfLinesOf(() => handler(cloudWatchEvent(cloudWatchPayload("/aws/lambda/checkout", events)), context()));
    const after = Date.now();
    expect(error).to.equal(undefined);
    const record = onlyRecord(lines, "cloudwatch", Object.keys(UNITS));
    expect(record.timestamp).to.be.within(before, after);
    expect({
      Records: valueOf(record, "Records"), RecordsFailed: valueOf(record, "RecordsFailed"), EntriesShipped: valueOf(record, "EntriesShipped"),
      EntriesRejected: valueOf(record, "EntriesRejected"), EntriesDropped: valueOf(record, "EntriesDropped"), Pushes: valueOf(record, "Pushes"),
      PushRetries: valueOf(record, "PushRetries"), PushSplits: valueOf(record, "PushSplits"),
    }).to.deep.equal({ Records: 1, RecordsFailed: 0, EntriesShipped: 3, EntriesRejected: 0, EntriesDropped: 0, Pushes: 1, PushRetries: 0, PushSplits: 0 });
    // The batcher's size bound of the request: exact for entries, a few bytes over per stream.
    expect(valueOf(record, "BytesShipped")).to.be.within(loki.received[0].decodedBytes, loki.received[0].decodedBytes + 10);
    expectLag(record, "DeliveryLagNewest", now - 5_000, before, after);
    expectLag(record, "DeliveryLagOldest", now - 90_000, before, after);
    expect(JSON.stringify(JSON.parse(lines[0]))).not.to.include("/aws/lambda/checkout");
  });

  it("CloudWatch: entries stamped ahead of the clock (a producer's skewed clock) are 0 ms old, never a negative age", async () => {
    const now = Date.now();
    const ahead = [{ timestamp: now + 600_000, message: "ten minutes ahead" }, { timestamp: now + 60_000, message: "a minute ahead" }];
    const allAhead = await emfLinesOf(() => handler(cloudWatchEvent(cloudWatchPayload("/aws/lambda/skewed", ahead)), context()));
    const record = onlyRecord(allAhead.lines, "cloudwatch", Object.keys(UNITS));
    expect([valueOf(record, "DeliveryLagNewest"), valueOf(record, "DeliveryLagOldest")]).to.deep.equal([0, 0]);

    const before = Date.now();
    const mixed = await emfLinesOf(() => handler(cloudWatchEvent(cloudWatchPayload("/aws/lambda/skewed", [{ timestamp: now - 45_000, message: "late" }, ahead[0]])), context()));
    const after = Date.now();
    const both = onlyRecord(mixed.lines, "cloudwatch", Object.keys(UNITS));
    expect(valueOf(both, "DeliveryLagNewest")).to.equal(0);
    expectLag(both, "DeliveryLagOldest", now - 45_000, before, after);
  });

  it("CloudWatch: a push that never succeeds counts the failed record and no lag, and the invocation still fails", async () => {
    loki.respondWith(...Array<number>(200).fill(503));
    const { lines, error } = await emfLinesOf(() => handler(cloudWatchEvent(cloudWatchPayload("/g", [{ timestamp: Date.now(), message: "x" }])), context(1500)));
    expect((error as Error).message).to.match(/1 of 1 cloudwatch records failed/);
    const record = onlyRecord(lines, "cloudwatch", WITHOUT_LAG);
    expect(valueOf(record, "RecordsFailed")).to.equal(1);
    expect(valueOf(record, "EntriesShipped")).to.equal(0);
    expect(valueOf(record, "BytesShipped")).to.equal(0);
    expect(valueOf(record, "PushRetries")).to.be.greaterThan(0);
    // Every request Loki saw, and no other, is a push.
    expect(valueOf(record, "Pushes")).to.equal(loki.requests.length);
  });

  it("CloudWatch: counts 413 splits and the entries dropped by relabeling", async () => {
    loki.rejectBodiesLargerThan(1500, "decoded");
    configure({ RELABEL_CONFIGS: JSON.stringify([{ source_labels: ["__aws_cloudwatch_log_group"], regex: "/drop/.*", action: "drop" }]) });
    const now = Date.now();
    const events = Array.from({ length: 40 }, (_, i) => ({ timestamp: now - 1000 + i, message: `line ${i} ${"y".repeat(60)}` }));
    const shipped = await emfLinesOf(() => handler(cloudWatchEvent(cloudWatchPayload("/keep/app", events)), context()));
    const splits = onlyRecord(shipped.lines, "cloudwatch", Object.keys(UNITS));
    expect(valueOf(splits, "PushSplits")).to.equal(loki.requests.filter((r) => r.status === 413).length).and.to.be.greaterThan(0);
    expect(valueOf(splits, "EntriesShipped")).to.equal(40);
    expect(valueOf(splits, "Pushes")).to.equal(loki.requests.length);

    const dropped = await emfLinesOf(() => handler(cloudWatchEvent(cloudWatchPayload("/drop/app", events.slice(0, 7))), context()));
    const record = onlyRecord(dropped.lines, "cloudwatch", WITHOUT_LAG);
    expect(valueOf(record, "EntriesDropped")).to.equal(7);
    expect(valueOf(record, "EntriesShipped")).to.equal(0);
    expect(valueOf(record, "Pushes")).to.equal(0);
  });

  it("Kinesis: a corrupt record is counted failed, the others shipped, with their arrival time's lag", async () => {
    const arrival = Date.now() - 120_000;
    const before = Date.now();
    const { lines } = await emfLinesOf(() => handler(kinesisEvent(
      kinesisRecord("2001", Buffer.from("first\nsecond\n").toString("base64"), arrival / 1000),
      kinesisRecord("2002", Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00]).toString("base64"), arrival / 1000),
    ), context()));
    const after = Date.now();
    const record = onlyRecord(lines, "kinesis", Object.keys(UNITS));
    expect([valueOf(record, "Records"), valueOf(record, "RecordsFailed"), valueOf(record, "EntriesShipped")]).to.deep.equal([2, 1, 2]);
    expectLag(record, "DeliveryLagNewest", arrival, before, after);
    expectLag(record, "DeliveryLagOldest", arrival, before, after);
  });

  it("Kinesis: entries Loki answered 400 to are counted rejected, not shipped, and their lag still shows", async () => {
    loki.respondWith({ status: 400, body: "entry too far behind" });
    const arrival = Date.now() - 2 * 3600_000;
    const { lines } = await emfLinesOf(() => handler(kinesisEvent(kinesisRecord("3001", Buffer.from("old 1\nold 2\nold 3\n").toString("base64"), arrival / 1000)), context()));
    const record = onlyRecord(lines, "kinesis", Object.keys(UNITS));
    expect([valueOf(record, "EntriesRejected"), valueOf(record, "EntriesShipped"), valueOf(record, "RecordsFailed")]).to.deep.equal([3, 0, 0]);
    expect(valueOf(record, "DeliveryLagOldest")).to.be.at.least(2 * 3600_000);
  });

  it("S3: a missing object is a failed record; the lines of the other object are shipped with their own timestamps' lag", async () => {
    const before = Date.now();
    const { lines, error } = await emfLinesOf(() => handler(s3Notification(s3Record(BUCKET, ALB_KEY), s3Record(BUCKET, MISSING_KEY)), context()));
    const after = Date.now();
    expect((error as Error).message).to.match(/1 of 2 s3 records failed/);
    const record = onlyRecord(lines, "s3", Object.keys(UNITS));
    expect([valueOf(record, "Records"), valueOf(record, "RecordsFailed"), valueOf(record, "EntriesShipped")]).to.deep.equal([2, 1, 3]);
    // The object's lines are 10, 5 and 2 minutes old (written in `before`), to the millisecond of their ALB time.
    expect(valueOf(record, "DeliveryLagOldest")).to.be.within(600_000, 600_000 + (after - before) + 60_000);
    expect(valueOf(record, "DeliveryLagNewest")).to.be.within(120_000, 120_000 + (after - before) + 60_000);
  });

  it("METRICS=false writes no metric line; METRICS_NAMESPACE names the namespace", async () => {
    const event = () => cloudWatchEvent(cloudWatchPayload("/g", [{ timestamp: Date.now(), message: "x" }]));
    configure({ METRICS: "false" });
    expect((await emfLinesOf(() => handler(event(), context()))).lines).to.deep.equal([]);
    configure({ METRICS_NAMESPACE: "Platform/Logs" });
    onlyRecord((await emfLinesOf(() => handler(event(), context()))).lines, "cloudwatch", Object.keys(UNITS), "Platform/Logs");
  });

  it("METRICS alone decides: Powertools' own switches (POWERTOOLS_DEV, POWERTOOLS_METRICS_DISABLED) do not silence the line", async () => {
    const event = () => cloudWatchEvent(cloudWatchPayload("/g", [{ timestamp: Date.now(), message: "x" }]));
    for (const env of [{ POWERTOOLS_DEV: "true" }, { POWERTOOLS_METRICS_DISABLED: "true" }]) {
      configure(env);
      onlyRecord((await emfLinesOf(() => handler(event(), context()))).lines, "cloudwatch", Object.keys(UNITS));
    }
  });

  it("emfLine: the same metrics for another source kind as a line the caller writes (the telemetry extension's entry point)", async () => {
    const stats: ShipStats = { records: 4, failedRecords: 1, entries: 12, bytes: 2048, streams: 1, pushes: 2, retries: 1, splits: 0, dropped: 2, rejected: 0, stageDropped: { too_old: 2 }, truncatedLines: 1, droppedLongLines: 1, splitLines: 1, shipped: 10, lagNewestMs: 150, lagOldestMs: 900 };
    const metrics = new ShipperMetrics({ namespace: "LambdaPromtail", functionName: FUNCTION_NAME });
    const written = await emfLinesOf(async () => metrics.emfLine("extension", stats));
    expect(written.lines, "emfLine does not write").to.deep.equal([]);
    const record = onlyRecord([metrics.emfLine("extension", stats)], "extension", Object.keys(UNITS));
    expect(Object.fromEntries(record.data.map((d) => [d.name, d.values[0]]))).to.deep.equal({
      Records: 4, RecordsFailed: 1, EntriesShipped: 10, EntriesRejected: 0, EntriesDropped: 5, BytesShipped: 2048,
      Pushes: 2, PushRetries: 1, PushSplits: 0, DeliveryLagNewest: 150, DeliveryLagOldest: 900,
    });
    // A second line carries only its own figures: nothing accumulates between calls.
    const again = parseEmf(metrics.emfLine("extension", { ...stats, records: 1 }));
    expect(valueOf(again, "Records")).to.equal(1);
    expect(again.data.find((d) => d.name === "Records")?.values).to.deep.equal([1]);
  });
});
