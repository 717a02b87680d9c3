import { expect } from "chai";
import { cloudWatchRecords } from "../handler/sources/cloudwatch";
import { detectEvent } from "../handler/sources/detect";
import { kinesisRecords, rawLines } from "../handler/sources/kinesis";
import { BadRecordError } from "../handler/types";
import {
  cloudWatchEvent, cloudWatchPayload, drain, gzipBase64, KINESIS_ARN, kinesisEvent, kinesisRecord, sourceContext,
} from "./support/events";

const T0 = 1763798400123; // ms

describe("event detection", () => {
  const cases: [string, unknown, string | undefined][] = [
    ["a CloudWatch Logs subscription", { awslogs: { data: "H4sI" } }, "cloudwatch"],
    ["a Kinesis batch", kinesisEvent(kinesisRecord("1", "")), "kinesis"],
    ["an SQS batch", { Records: [{ eventSource: "aws:sqs", messageId: "m", body: "{}" }] }, "sqs"],
    ["an S3 notification", { Records: [{ eventSource: "aws:s3", s3: {} }] }, "s3"],
    ["the S3 test event", { Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "b" }, "s3"],
    ["an SNS notification", { Records: [{ EventSource: "aws:sns", Sns: {} }] }, "sns"],
    ["an EventBridge event", { source: "aws.s3", "detail-type": "Object Created", detail: {} }, "eventbridge"],
    ["an empty object", {}, undefined],
    ["an empty Records array", { Records: [] }, undefined],
    ["a DynamoDB stream", { Records: [{ eventSource: "aws:dynamodb" }] }, undefined],
    ["a string", "hello", undefined],
    ["null", null, undefined],
  ];
  for (const [what, event, kind] of cases) {
    it(`recognises ${what} as ${kind ?? "unknown"}`, () => expect(detectEvent(event)).to.equal(kind));
  }
});

describe("CloudWatch Logs subscription events", () => {
  it("ships every log event with lambda-promtail's labels and the event's own timestamp", async () => {
    const event = cloudWatchEvent(cloudWatchPayload("/aws/lambda/checkout", [
      { timestamp: T0, message: "first" },
      { timestamp: T0 + 1, message: "second\n" },
    ]));
    const [record] = cloudWatchRecords(event, sourceContext());
    const groups = await drain(record);
    expect(groups).to.have.length(1);
    expect(groups[0].labels).to.deep.equal({
      __aws_log_type: "cloudwatch",
      __aws_cloudwatch_log_group: "/aws/lambda/checkout",
      __aws_cloudwatch_owner: "123456789012",
    });
    expect(groups[0].entries).to.deep.equal([
      { sec: 1763798400, nsec: 123_000_000, line: "first" },
      { sec: 1763798400, nsec: 124_000_000, line: "second\n" },
    ]);
    expect(groups[0].metadata).to.include({ cloudwatch_log_stream: "2025/11/22/[$LATEST]abcdef0123456789", cloudwatch_owner: "123456789012" });
  });

  it("adds the log stream label only with KEEP_STREAM=true", async () => {
    const event = cloudWatchEvent(cloudWatchPayload("/g", [{ timestamp: T0, message: "x" }]));
    const [withStream] = await drain(cloudWatchRecords(event, sourceContext({ KEEP_STREAM: "true" }))[0]);
    expect(withStream.labels.__aws_cloudwatch_log_stream).to.equal("2025/11/22/[$LATEST]abcdef0123456789");
    const [without] = await drain(cloudWatchRecords(event, sourceContext())[0]);
    expect(without.labels).to.not.have.property("__aws_cloudwatch_log_stream");
  });

  it("attaches the event id as entry metadata only when asked", async () => {
    const event = cloudWatchEvent(cloudWatchPayload("/g", [{ id: "evt-1", timestamp: T0, message: "x" }]));
    const [asked] = await drain(cloudWatchRecords(event, sourceContext({ STRUCTURED_METADATA: "cloudwatch_event_id" }))[0]);
    expect(asked.entries[0].metadata).to.deep.equal({ cloudwatch_event_id: "evt-1" });
    const [notAsked] = await drain(cloudWatchRecords(event, sourceContext())[0]);
    expect(notAsked.entries[0]).to.not.have.property("metadata");
  });

  it("ignores CONTROL_MESSAGE payloads", async () => {
    const event = cloudWatchEvent({ messageType: "CONTROL_MESSAGE", owner: "CloudwatchLogs", logGroup: "", logStream: "", subscriptionFilters: [], logEvents: [{ id: "", timestamp: T0, message: "CWL CONTROL MESSAGE: Checking health of destination" }] });
    expect(await drain(cloudWatchRecords(event, sourceContext())[0])).to.deep.equal([]);
  });

  const corrupt: [string, unknown, RegExp][] = [
    ["data that is not base64", { awslogs: { data: "not*base64!" } }, /not valid base64/],
    ["data that is not gzip", { awslogs: { data: Buffer.from("plain text").toString("base64") } }, /not valid gzip/],
    ["a truncated gzip payload", { awslogs: { data: Buffer.from(gzipBase64(cloudWatchPayload("/g", [{ timestamp: T0, message: "x".repeat(500) }])), "base64").subarray(0, 40).toString("base64") } }, /not valid gzip/],
    ["gzip of bad JSON", { awslogs: { data: gzipBase64("{not json") } }, /not valid JSON/],
    ["JSON that is not a subscription payload", { awslogs: { data: gzipBase64({ hello: "world" }) } }, /not a CloudWatch Logs subscription payload/],
    ["a log event without a timestamp", cloudWatchEvent(cloudWatchPayload("/g", [{ timestamp: "yesterday" as unknown as number, message: "x" }])), /logEvents\[0\]/],
  ];
  for (const [what, event, message] of corrupt) {
    it(`reports ${what} as a bad record with a clear message`, async () => {
      const [record] = cloudWatchRecords(event as never, sourceContext());
      let caught: unknown;
      try { await drain(record); } catch (err) { caught = err; }
      expect(caught).to.be.instanceOf(BadRecordError);
      expect((caught as Error).message).to.match(message);
    });
  }
});

describe("Kinesis events", () => {
  it("unpacks CloudWatch subscription payloads with the Kinesis labels", async () => {
    const payload = cloudWatchPayload("/ecs/payments", [{ timestamp: T0, message: "settled" }]);
    const [record] = kinesisRecords(kinesisEvent(kinesisRecord("495001", gzipBase64(payload))), sourceContext());
    expect(record.itemIdentifier).to.equal("495001");
    const [group] = await drain(record);
    expect(group.labels).to.deep.equal({
      __aws_log_type: "kinesis",
      __aws_kinesis_event_source_arn: KINESIS_ARN,
      __aws_cloudwatch_log_group: "/ecs/payments",
      __aws_cloudwatch_owner: "123456789012",
    });
    expect(group.entries).to.deep.equal([{ sec: 1763798400, nsec: 123_000_000, line: "settled" }]);
    expect(group.metadata).to.include({ kinesis_partition_key: "pk-1", kinesis_sequence_number: "495001", kinesis_shard_id: "shardId-000000000003", cloudwatch_log_stream: payload.logStream });
  });

  it("ships plain text records as raw lines stamped with the arrival time, line i i nanoseconds later", async () => {
    const data = Buffer.from("1763798402.123\t203.0.113.7\t200\n1763798402.124\t203.0.113.8\t404\r\n").toString("base64");
    const [group] = await drain(kinesisRecords(kinesisEvent(kinesisRecord("7", data, 1763798402.25)), sourceContext())[0]);
    expect(group.labels).to.deep.equal({ __aws_log_type: "kinesis", __aws_kinesis_event_source_arn: KINESIS_ARN });
    expect(group.entries).to.deep.equal([
      { sec: 1763798402, nsec: 250_000_000, line: "1763798402.123\t203.0.113.7\t200" },
      { sec: 1763798402, nsec: 250_000_001, line: "1763798402.124\t203.0.113.8\t404" },
    ]);
  });

  it("keeps the repeated lines of a plain record apart and in order: Loki drops an entry identical (time and line) to one it holds", async () => {
    const trace = "java.lang.StackOverflowError\n\tat a.B.f(B.java:7)\n\tat a.B.f(B.java:7)\n\tat a.B.f(B.java:7)\n";
    const [group] = await drain(kinesisRecords(kinesisEvent(kinesisRecord("11", Buffer.from(trace).toString("base64"), 1763798402.999)), sourceContext())[0]);
    const keys = group.entries.map((e) => `${e.sec}.${String(e.nsec).padStart(9, "0")} ${e.line}`);
    expect(new Set(keys).size, "distinct (time, line) pairs").to.equal(4);
    expect([...keys].sort()).to.deep.equal(keys);
    // A retry of the record gives the very same entries, which Loki then deduplicates.
    const [again] = await drain(kinesisRecords(kinesisEvent(kinesisRecord("11", Buffer.from(trace).toString("base64"), 1763798402.999)), sourceContext())[0]);
    expect(again.entries).to.deep.equal(group.entries);
    // A million lines and more carry into the next second.
    const many = rawLines("x\n".repeat(1_000_002), 1763798402.999);
    expect(many.slice(-2).map((e) => [e.sec, e.nsec])).to.deep.equal([[1763798403, 0], [1763798403, 1]]);
  });

  it("ships JSON that is not a subscription payload as a raw line, never dropping it", async () => {
    const data = Buffer.from('{"service":"edge","messageType":"custom"}').toString("base64");
    const [group] = await drain(kinesisRecords(kinesisEvent(kinesisRecord("8", data)), sourceContext())[0]);
    expect(group.entries.map((e) => e.line)).to.deep.equal(['{"service":"edge","messageType":"custom"}']);
  });

  it("ships gzip data that is not a subscription payload as its decompressed lines", async () => {
    const [group] = await drain(kinesisRecords(kinesisEvent(kinesisRecord("9", gzipBase64("a\nb\n"))), sourceContext())[0]);
    expect(group.entries.map((e) => e.line)).to.deep.equal(["a", "b"]);
  });

  it("ignores CONTROL_MESSAGE payloads", async () => {
    const data = gzipBase64({ messageType: "CONTROL_MESSAGE", owner: "CloudwatchLogs", logGroup: "", logStream: "", subscriptionFilters: [], logEvents: [] });
    expect(await drain(kinesisRecords(kinesisEvent(kinesisRecord("10", data)), sourceContext())[0])).to.deep.equal([]);
  });

  it("fails only the record whose data is corrupt", async () => {
    const records = kinesisRecords(kinesisEvent(
      kinesisRecord("1", gzipBase64(cloudWatchPayload("/g", [{ timestamp: T0, message: "ok" }]))),
      kinesisRecord("2", Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01]).toString("base64")),
      kinesisRecord("3", "%%%not-base64"),
      kinesisRecord("4", Buffer.from("fine").toString("base64")),
    ), sourceContext());
    const outcomes = await Promise.all(records.map((r) => drain(r).then(() => "ok", (e: Error) => e.message)));
    expect(outcomes[0]).to.equal("ok");
    expect(outcomes[1]).to.match(/kinesis record 2 data is not valid gzip/);
    expect(outcomes[2]).to.match(/kinesis record 3 data is not valid base64/);
    expect(outcomes[3]).to.equal("ok");
  });
});
