/**
 * The real handler, end to end, against a local Loki push endpoint on 127.0.0.1 that decodes
 * with its own snappy and protobuf readers and answers what each test scripts.
 */
import { expect } from "chai";
import { gzipSync } from "node:zlib";
import { handler, resetForTests } from "../handler/index";
import { CloudWatchLogsServer } from "./support/cloudwatch-logs-server";
import { setEnv } from "./support/env";
import { cloudWatchEvent, cloudWatchPayload, gzipBase64, KINESIS_ARN, kinesisEvent, kinesisRecord } from "./support/events";
import { countEntries, LokiReceiver, parseLabels } from "./support/loki-receiver";
import { captureFunctionLogs } from "./support/function-logs";

const T0 = 1763798400000;
const MANAGED = ["WRITE_ADDRESS", "USERNAME", "PASSWORD", "BEARER_TOKEN", "TENANT_ID", "KEEP_STREAM", "BATCH_SIZE", "EXTRA_LABELS",
  "OMIT_EXTRA_LABELS_PREFIX", "DROP_LABELS", "RELABEL_CONFIGS", "STRUCTURED_METADATA", "SKIP_TLS_VERIFY", "PRINT_LOG_LINE", "LOG_LEVEL",
  "TAG_LABELS", "TAG_LABELS_PREFIX", "TAG_CACHE_TTL_SECONDS", "AWS_REGION", "MAX_DECOMPRESSED_SIZE", "MAX_LINE_SIZE", "MAX_LINE_SIZE_ACTION"];

function context(remainingMs = 30_000) {
  const end = Date.now() + remainingMs;
  return { awsRequestId: "req-1", functionName: "lambda-promtail", getRemainingTimeInMillis: () => end - Date.now() };
}

/**
 * A gzip bomb: `mib` MiB of zeros as concatenated gzip members of 1 MiB each (about 1 KB each),
 * which zlib inflates as one stream. Built without ever holding the inflated bytes.
 */
function gzipBomb(mib: number): Buffer {
  const member = gzipSync(Buffer.alloc(1024 * 1024));
  return Buffer.concat(Array.from({ length: mib }, () => member));
}

function lines(n: number, prefix = "line") {
  return Array.from({ length: n }, (_, i) => ({ timestamp: T0 + i, message: `${prefix} ${i} ${"x".repeat(80)}` }));
}

describe("handler end to end (local Loki receiver)", () => {
  const loki = new LokiReceiver();
  const saved: Record<string, string | undefined> = {};

  function configure(env: Record<string, string>): void {
    for (const name of MANAGED) delete process.env[name];
    Object.assign(process.env, { WRITE_ADDRESS: loki.url, ...env });
    resetForTests();
  }

  before(async () => {
    for (const name of MANAGED) saved[name] = process.env[name];
    await loki.start();
  });
  after(async () => {
    resetForTests();
    for (const name of MANAGED) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await loki.stop();
  });
  beforeEach(() => {
    loki.reset();
    configure({});
  });

  it("ships a CloudWatch subscription event with its labels, timestamps and headers", async () => {
    configure({ TENANT_ID: "team-a", USERNAME: "user", PASSWORD: "s3cret" });
    const result = await handler(cloudWatchEvent(cloudWatchPayload("/aws/lambda/checkout", [
      { timestamp: T0 + 5, message: "second" }, { timestamp: T0, message: "first" },
    ])), context());
    expect(result).to.equal(undefined);
    expect(loki.received).to.have.length(1);
    const [stream] = loki.received[0].streams;
    expect(parseLabels(stream.labels)).to.deep.equal({
      __aws_log_type: "cloudwatch", __aws_cloudwatch_log_group: "/aws/lambda/checkout", __aws_cloudwatch_owner: "123456789012",
    });
    expect(stream.entries.map((e) => [e.sec, e.nsec, e.line])).to.deep.equal([[1763798400, 0, "first"], [1763798400, 5_000_000, "second"]]);
    const { headers } = loki.requests[0];
    expect(headers["content-type"]).to.equal("application/x-protobuf");
    expect(headers["x-scope-orgid"]).to.equal("team-a");
    expect(headers.authorization).to.equal(`Basic ${Buffer.from("user:s3cret").toString("base64")}`);
    expect(headers["user-agent"]).to.match(/^lambda-promtail-pulumi\//);
  });

  it("sends a bearer token when one is configured", async () => {
    configure({ BEARER_TOKEN: "tok-123" });
    await handler(cloudWatchEvent(cloudWatchPayload("/g", lines(1))), context());
    expect(loki.requests[0].headers.authorization).to.equal("Bearer tok-123");
  });

  it("applies extra labels, drop labels and relabel rules before pushing", async () => {
    configure({
      EXTRA_LABELS: "env,prod",
      DROP_LABELS: "__aws_cloudwatch_owner",
      RELABEL_CONFIGS: JSON.stringify([
        { source_labels: ["__aws_cloudwatch_log_group"], regex: "/aws/lambda/(.*)", target_label: "function" },
        { action: "labelmap", regex: "__extra_(.*)" },
        { action: "labeldrop", regex: "__extra_.*" },
      ]),
    });
    await handler(cloudWatchEvent(cloudWatchPayload("/aws/lambda/checkout", lines(2))), context());
    expect(parseLabels(loki.received[0].streams[0].labels)).to.deep.equal({
      __aws_log_type: "cloudwatch", __aws_cloudwatch_log_group: "/aws/lambda/checkout", function: "checkout", env: "prod",
    });
  });

  it("keeps the log stream as structured metadata instead of a label when asked", async () => {
    configure({ STRUCTURED_METADATA: "cloudwatch_log_stream" });
    await handler(cloudWatchEvent(cloudWatchPayload("/g", lines(2))), context());
    const [stream] = loki.received[0].streams;
    expect(parseLabels(stream.labels)).to.not.have.property("__aws_cloudwatch_log_stream");
    for (const e of stream.entries) expect(e.metadata).to.deep.equal({ cloudwatch_log_stream: "2025/11/22/[$LATEST]abcdef0123456789" });
  });

  it("ignores CloudWatch CONTROL_MESSAGE events without pushing", async () => {
    await handler(cloudWatchEvent({ messageType: "CONTROL_MESSAGE", owner: "CloudwatchLogs", logGroup: "", logStream: "", subscriptionFilters: [], logEvents: [] }), context());
    expect(loki.requests).to.have.length(0);
  });

  it("reports only the corrupt Kinesis record in batchItemFailures and ships the others", async () => {
    const result = await handler(kinesisEvent(
      kinesisRecord("1001", gzipBase64(cloudWatchPayload("/ecs/payments", lines(3)))),
      kinesisRecord("1002", Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00]).toString("base64")),
      kinesisRecord("1003", Buffer.from("plain text line\n").toString("base64")),
    ), context());
    expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "1002" }] });
    const streams = loki.received.flatMap((p) => p.streams);
    const byGroup = Object.fromEntries(streams.map((s) => [parseLabels(s.labels).__aws_cloudwatch_log_group ?? "raw", s.entries.length]));
    expect(byGroup).to.deep.equal({ "/ecs/payments": 3, raw: 1 });
    for (const s of streams) expect(parseLabels(s.labels)).to.include({ __aws_log_type: "kinesis", __aws_kinesis_event_source_arn: KINESIS_ARN });
  });

  it("fails alone a Kinesis record that inflates past MAX_DECOMPRESSED_SIZE, naming the limit, and ships its neighbours", async () => {
    const log = captureFunctionLogs();
    let result;
    try {
      result = await handler(kinesisEvent(
        kinesisRecord("1101", gzipBase64(cloudWatchPayload("/ecs/payments", lines(3)))),
        kinesisRecord("1102", gzipBomb(24).toString("base64")),
        kinesisRecord("1103", Buffer.from("plain text line\n").toString("base64")),
      ), context());
    } finally {
      log.restore();
    }
    expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "1102" }] });
    expect(countEntries(loki.acceptedPushes()).total).to.equal(4);
    expect(log.text()).to.match(/kinesis record 1102 data inflates to more than 16777216 bytes, the MAX_DECOMPRESSED_SIZE limit/);
  });

  it("fails a CloudWatch event whose payload inflates past MAX_DECOMPRESSED_SIZE with an error naming the limit", async () => {
    configure({ MAX_DECOMPRESSED_SIZE: "2MB" });
    const log = captureFunctionLogs();
    const bomb = { awslogs: { data: gzipBomb(3).toString("base64") } };
    let caught: unknown;
    try { await handler(bomb, context()); } catch (err) { caught = err; } finally { log.restore(); }
    expect((caught as Error)?.message).to.match(/1 of 1 cloudwatch records failed/);
    expect(log.text()).to.match(/awslogs.data inflates to more than 2097152 bytes, the MAX_DECOMPRESSED_SIZE limit/);
    expect(loki.requests).to.have.length(0);
  });

  // MAX_LINE_SIZE=1KB: lines measured in UTF-8 bytes, cut between characters.
  const LONG = ["short", "a".repeat(1024), "é".repeat(600), "€".repeat(400), "b".repeat(1023) + "😀"];
  const longLineCases: { env: Record<string, string>; expected: string[]; summary: Record<string, number> }[] = [
    { env: { MAX_LINE_SIZE: "1KB" }, expected: ["short", "a".repeat(1024), "é".repeat(512), "€".repeat(341), "b".repeat(1023)], summary: { truncatedLines: 3, droppedLongLines: 0 } },
    { env: { MAX_LINE_SIZE: "1024", MAX_LINE_SIZE_ACTION: "drop" }, expected: ["short", "a".repeat(1024)], summary: { truncatedLines: 0, droppedLongLines: 3 } },
    // split: consecutive entries of whole characters, in order; an empty line is a line like any other.
    {
      env: { MAX_LINE_SIZE: "1KB", MAX_LINE_SIZE_ACTION: "split" },
      expected: ["short", "a".repeat(1024), "é".repeat(512), "é".repeat(88), "€".repeat(341), "€".repeat(59), "b".repeat(1023), "😀"],
      summary: { truncatedLines: 0, droppedLongLines: 0, splitLines: 3 },
    },
  ];
  for (const { env, expected, summary } of longLineCases) {
    const action = env.MAX_LINE_SIZE_ACTION ?? "truncate";
    const events = LONG.map((message, i) => ({ timestamp: T0 + i, message }));
    const sources: [string, () => unknown][] = [
      ["CloudWatch", () => cloudWatchEvent(cloudWatchPayload("/g", events))],
      ["Kinesis", () => kinesisEvent(kinesisRecord("1201", gzipBase64(cloudWatchPayload("/g", events))))],
    ];
    for (const [source, event] of sources) {
      it(`${source}: lines above MAX_LINE_SIZE in UTF-8 bytes are handled by MAX_LINE_SIZE_ACTION=${action}, counted in the summary`, async () => {
        configure({ ...env, LOG_LEVEL: "info" });
        const log = captureFunctionLogs();
        try {
          await handler(event(), context());
        } finally {
          log.restore();
        }
        const entries = loki.acceptedPushes().flatMap((p) => p.streams.flatMap((s) => s.entries));
        expect(entries.map((e) => e.line)).to.deep.equal(expected);
        // Every piece keeps its line's timestamp: the i-th input line was stamped T0 + i ms.
        const stamps = entries.map((e) => e.sec * 1000 + e.nsec / 1e6);
        expect(stamps).to.deep.equal(expected.map((piece) => T0 + LONG.findIndex((line) => line.includes(piece))));
        expect(log.withMessage("invocation summary")[0]).to.include({ failedRecords: 0, ...summary });
      });
    }
  }

  it("MAX_LINE_SIZE_ACTION=split: an empty line ships empty, a line of exactly MAX_LINE_SIZE ships whole, in order, with the same timestamps", async () => {
    configure({ MAX_LINE_SIZE: "1KB", MAX_LINE_SIZE_ACTION: "split", LOG_LEVEL: "info" });
    const lines = ["", "x".repeat(1024), "y".repeat(2048), ""];
    const log = captureFunctionLogs();
    try {
      await handler(cloudWatchEvent(cloudWatchPayload("/g", lines.map((message) => ({ timestamp: T0, message })))), context());
    } finally {
      log.restore();
    }
    const entries = loki.acceptedPushes().flatMap((p) => p.streams.flatMap((s) => s.entries));
    expect(entries.map((e) => e.line)).to.deep.equal(["", "x".repeat(1024), "y".repeat(1024), "y".repeat(1024), ""]);
    expect(new Set(entries.map((e) => `${e.sec}.${e.nsec}`)).size).to.equal(1);
    expect(log.withMessage("invocation summary")[0]).to.include({ splitLines: 1, truncatedLines: 0 });
  });

  it("retries 500 and 429 answers and delivers every line exactly once", async () => {
    loki.respondWith(500, 429);
    await handler(cloudWatchEvent(cloudWatchPayload("/g", lines(50))), context());
    expect(loki.requests.map((r) => r.status)).to.deep.equal([500, 429, 204]);
    const accepted = countEntries(loki.acceptedPushes());
    expect(accepted).to.include({ total: 50, distinct: 50, duplicates: 0 });
  });

  it("gives up before the Lambda deadline and reports every Kinesis record failed", async () => {
    loki.respondWith(...Array.from({ length: 50 }, () => 503));
    const started = Date.now();
    const result = await handler(kinesisEvent(
      kinesisRecord("2001", Buffer.from("a\n").toString("base64")),
      kinesisRecord("2002", Buffer.from("b\n").toString("base64")),
    ), context(2500));
    expect(Date.now() - started).to.be.lessThan(2500);
    expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "2001" }, { itemIdentifier: "2002" }] });
  });

  it("fails a CloudWatch invocation whose entries could not be delivered, so Lambda retries it", async () => {
    loki.respondWith(...Array.from({ length: 50 }, () => 500));
    let caught: unknown;
    try { await handler(cloudWatchEvent(cloudWatchPayload("/g", lines(5))), context(1500)); } catch (err) { caught = err; }
    expect((caught as Error)?.message).to.match(/1 of 1 cloudwatch records failed/);
  });

  it("does not duplicate lines when a failed event is retried", async () => {
    const event = cloudWatchEvent(cloudWatchPayload("/g", lines(300)));
    configure({ BATCH_SIZE: "4096" });
    loki.respondWith(204, 204, ...Array.from({ length: 50 }, () => 500));
    try { await handler(event, context(1500)); } catch { /* the retry below is what Lambda would do */ }
    const firstAttempt = loki.acceptedPushes();
    loki.reset(); // forget the 500s still scripted
    await handler(event, context());
    const accepted = countEntries([...firstAttempt, ...loki.acceptedPushes()]);
    expect(accepted.distinct).to.equal(300);
    expect(accepted.duplicates).to.be.greaterThan(0, "the first two batches arrived twice, as identical entries Loki drops");
    for (const push of [...firstAttempt, ...loki.acceptedPushes()]) for (const s of push.streams) for (const e of s.entries) expect(e.sec).to.equal(1763798400);
  });

  it("does not resend a batch Loki answered 400, and does not fail the invocation", async () => {
    loki.respondWith({ status: 400, body: "entry for stream '{app=\"x\"}' has timestamp too old: entry too far behind" });
    const result = await handler(kinesisEvent(kinesisRecord("3001", Buffer.from("old line\n").toString("base64"))), context());
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(loki.requests).to.have.length(1);
  });

  it("splits a batch Loki answered 413 and delivers every line exactly once", async () => {
    loki.rejectBodiesLargerThan(2000, "decoded");
    configure({ BATCH_SIZE: "1048576" });
    await handler(cloudWatchEvent(cloudWatchPayload("/g", lines(100))), context());
    expect(loki.requests.some((r) => r.status === 413)).to.equal(true);
    expect(countEntries(loki.acceptedPushes())).to.include({ total: 100, distinct: 100, duplicates: 0 });
  });

  it("with the default 1 MiB BATCH_SIZE, delivers everything to an endpoint whose limit is smaller by splitting on 413", async () => {
    // A proxy in front of Loki with a 256 KB body limit; the default batch of the event below is about 900 KB.
    loki.rejectBodiesLargerThan(256 * 1024, "decoded");
    configure({});
    await handler(cloudWatchEvent(cloudWatchPayload("/g", lines(9000))), context());
    const refused = loki.requests.filter((r) => r.status === 413);
    expect(refused.length).to.be.greaterThan(0);
    expect(countEntries(loki.acceptedPushes())).to.include({ total: 9000, distinct: 9000, duplicates: 0 });
  });

  it("rejects an unknown event with a clear error", async () => {
    let caught: unknown;
    try { await handler({ hello: "world" }, context()); } catch (err) { caught = err; }
    expect((caught as Error).message).to.equal("unknown event type: an object with keys [hello]; expected a CloudWatch Logs subscription, Kinesis, S3, SQS, SNS or EventBridge event");
  });

  it("fails every invocation with the configuration error until the configuration is fixed", async () => {
    configure({ BATCH_SIZE: "lots" });
    for (let i = 0; i < 2; i++) {
      let caught: unknown;
      try { await handler(cloudWatchEvent(cloudWatchPayload("/g", lines(1))), context()); } catch (err) { caught = err; }
      expect((caught as Error).message).to.match(/^BATCH_SIZE: "lots" is out of range\. Accepted form: /);
    }
    expect(loki.requests).to.have.length(0);
  });

  describe("with tag labels", () => {
    const cwl = new CloudWatchLogsServer();
    let restoreEnv: () => void;
    before(async () => {
      restoreEnv = setEnv({ AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: await cwl.start(), AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" });
    });
    after(async () => {
      restoreEnv();
      await cwl.stop();
    });

    it("adds the log group's tags as labels, looked up once for many invocations, before relabeling", async () => {
      cwl.tags.set("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/checkout", { team: "payments", "cost:center": "42", secret: "no" });
      configure({
        AWS_REGION: "eu-west-1",
        TAG_LABELS: "team,cost:center",
        RELABEL_CONFIGS: JSON.stringify([{ source_labels: ["__aws_tag_team"], target_label: "team" }]),
      });
      for (let i = 0; i < 5; i++) await handler(cloudWatchEvent(cloudWatchPayload("/aws/lambda/checkout", lines(3, `inv${i}`))), context());
      await handler(kinesisEvent(kinesisRecord("4001", gzipBase64(cloudWatchPayload("/aws/lambda/checkout", lines(1, "via kinesis"))))), context());
      expect(cwl.calls).to.have.length(1);
      for (const push of loki.received) {
        expect(parseLabels(push.streams[0].labels)).to.include({ __aws_tag_team: "payments", __aws_tag_cost_center: "42", team: "payments" });
        expect(parseLabels(push.streams[0].labels)).to.not.have.property("__aws_tag_secret");
      }
    });

    it("ships without tag labels when the lookup is denied", async () => {
      cwl.failWith = { status: 400, type: "AccessDeniedException", message: "denied" };
      configure({ AWS_REGION: "eu-west-1", TAG_LABELS: "team" });
      await handler(cloudWatchEvent(cloudWatchPayload("/aws/lambda/other", lines(2))), context());
      expect(countEntries(loki.acceptedPushes()).total).to.equal(2);
      expect(Object.keys(parseLabels(loki.received[0].streams[0].labels)).filter((k) => k.startsWith("__aws_tag_"))).to.deep.equal([]);
      cwl.failWith = undefined;
    });

    it("ships without tag labels, within a second, when the CloudWatch Logs endpoint never answers", async () => {
      cwl.hang = true;
      configure({ AWS_REGION: "eu-west-1", TAG_LABELS: "team" });
      const ctx = context(30_000);
      try {
        await handler(cloudWatchEvent(cloudWatchPayload("/aws/lambda/unreachable", lines(2))), ctx);
      } finally {
        cwl.hang = false;
      }
      expect(30_000 - ctx.getRemainingTimeInMillis(), "time the invocation took").to.be.lessThan(1500);
      expect(countEntries(loki.acceptedPushes()).total).to.equal(2);
      expect(Object.keys(parseLabels(loki.received[0].streams[0].labels)).filter((k) => k.startsWith("__aws_tag_"))).to.deep.equal([]);
    });
  });
});
