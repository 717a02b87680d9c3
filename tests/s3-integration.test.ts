/**
 * The real handler against a real S3-compatible server (s3rver on 127.0.0.1, read through the
 * real @aws-sdk/client-s3) and the local Loki receiver (independent decoder): S3, SQS, SNS and
 * EventBridge events; exact lines, timestamps and labels arriving; partial SQS failures; nasty
 * objects; a retried object after Loki answered 500 produces no new distinct entries.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { handler } from "../handler/index";
import { limitLine } from "../handler/line-size";
import { captureFunctionLogs } from "./support/function-logs";
import { useHandlerWithLoki } from "./support/handler-harness";
import { countEntries, parseLabels, ReceivedEntry } from "./support/loki-receiver";
import {
  eventBridgeEvent, EVENT_TIMESTAMP, notificationKey, s3Notification, s3Record, S3_TEST_EVENT, snsEnvelope, snsEvent, sqsEvent, sqsMessage,
} from "./support/s3-events";

const BUCKET = "logs";
const fixture = (name: string): Buffer => readFileSync(join(__dirname, "fixtures", "s3", name));
const fixtureLines = (name: string): string[] => fixture(name).toString("utf8").split("\n").filter((l) => l !== "");

const KEYS = {
  alb: "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2018/07/02/123456789012_elasticloadbalancing_us-east-1_app.my-loadbalancer.50dc6c495c0c9188_20180702T2225Z_10.0.0.1_2et2e1mx.log.gz",
  vpc: "AWSLogs/123456789012/vpcflowlogs/us-east-1/2014/12/14/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20141214T0420Z_fe123456.log.gz",
  cloudtrail: "AWSLogs/o-exampleorg1/123456789012/CloudTrail/us-east-2/2023/05/19/123456789012_CloudTrail_us-east-2_20230519T0745Z_Mu0KsOhtH1ar15ZZ.json.gz",
  digest: "AWSLogs/123456789012/CloudTrail-Digest/us-east-2/2023/05/19/123456789012_CloudTrail-Digest_us-east-2_20230519T0745Z_Mu0KsOhtH1ar15ZZ.json.gz",
  cloudfront: "cf-logs/E2K2LNL5N3WR51.2019-12-04-21.a10a8496.gz",
  waf: "AWSLogs/111122223333/WAFLogs/us-east-1/TEST-WEBACL/2023/08/31/04/55/111122223333_waflogs_us-east-1_TEST-WEBACL_20230831T0455Z_e0ca43b5.log.gz",
  guardduty: "AWSLogs/123456789012/GuardDuty/us-east-1/2024/05/30/07a3f2ce-1485-3031-b842-e1f324c4a48d.jsonl.gz",
  access: "access/123456789012/us-west-1/amzn-s3-demo-bucket1/2019/02/06/2019-02-06-00-00-38-E568B2907131C0C0",
  accessSimple: "access-simple/2019-02-06-00-00-38-5F3A8C2E1D4B6A70",
  spaces: "my logs/ünïcødé ✓ + more/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2018/07/02/123456789012_elasticloadbalancing_us-east-1_app.spaced-lb.50dc6c495c0c9188_20180702T2225Z_10.0.0.1_2et2e1mx.log.gz",
  empty: "empty/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2018/07/02/123456789012_elasticloadbalancing_us-east-1_app.empty-lb.50dc6c495c0c9188_20180702T2225Z_10.0.0.1_2et2e1mx.log.gz",
  headerOnly: "AWSLogs/123456789012/vpcflowlogs/us-east-1/2014/12/14/123456789012_vpcflowlogs_us-east-1_fl-header0only_20141214T0420Z_fe123456.log.gz",
  truncated: "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2018/07/02/123456789012_elasticloadbalancing_us-east-1_app.truncated-lb.50dc6c495c0c9188_20180702T2225Z_10.0.0.1_2et2e1mx.log.gz",
  bigLine: "AWSLogs/111122223333/WAFLogs/us-east-1/BIG-ACL/2023/08/31/04/55/111122223333_waflogs_us-east-1_BIG-ACL_20230831T0455Z_e0ca43b5.log.gz",
  crlf: "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2015/05/13/123456789012_elasticloadbalancing_us-east-1_crlf-clb_20150513T2340Z_172.160.001.192_20sg8hgm.log",
  many: "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/06/01/123456789012_elasticloadbalancing_us-east-1_app.many-lines.50dc6c495c0c9188_20240601T1200Z_10.0.0.1_2et2e1mx.log.gz",
  unknown: "exports/report 2024.csv",
  digestReal: "AWSLogs/123456789012/CloudTrail-Digest/us-east-2/2023/05/19/123456789012_CloudTrail-Digest_us-east-2_management-events_us-east-2_20230519T074512Z.json.gz",
  elbTestFile: "alb-logs/AWSLogs/123456789012/ELBAccessLogTestFile",
  folder: "alb-logs/AWSLogs/123456789012/elasticloadbalancing/",
  msk: "AWSLogs/123456789012/KafkaBrokerLogs/us-east-1/orders-cluster-7f6b9b77-24f9-4921-87b6-d29a6401e292-3/2025-07-04-11/Broker-1_11-55_cab960bb.log.gz",
};

const BIG_LINE = JSON.stringify({ timestamp: 1693457862729, formatVersion: 1, action: "ALLOW", httpRequest: { clientIp: "203.0.113.9", uri: "/" + "a".repeat(1024 * 1024) } });
const MANY_LINES = 3000;
const manyLines = (): string[] => Array.from({ length: MANY_LINES }, (_, i) =>
  `http 2024-06-01T12:00:${String(i % 60).padStart(2, "0")}.${String(i).padStart(6, "0")}Z app/many-lines/50dc6c495c0c9188 10.0.${i % 250}.1:4000 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/item/${i} HTTP/1.1" "curl/8.0" - - arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/73e2d6bc24d8a067 "Root=1-6659c9c0-${String(i).padStart(24, "0")}" "-" "-" 0 2024-06-01T12:00:00.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_0`);

/** The stream labels of an ALB object of load balancer `name`. */
const albLabels = (name: string) => ({ __aws_log_type: "s3_lb", __aws_s3_lb: name, __aws_s3_lb_owner: "123456789012" });

interface Arrived extends ReceivedEntry {
  labels: Record<string, string>;
}

describe("S3-delivered logs end to end (handler + s3rver + Loki receiver)", function () {
  this.timeout(60_000);
  const harness = useHandlerWithLoki({ s3: { buckets: [BUCKET] } });
  const loki = harness.loki;
  const configure = (extra: Record<string, string> = {}): void =>
    harness.configure({ LOG_LEVEL: "error", STRUCTURED_METADATA: "s3_key,lb_client_ip,cloudtrail_event_id", ...extra });

  /** Every entry Loki accepted, with parsed labels, in arrival order. */
  const arrived = (): Arrived[] =>
    loki.acceptedPushes().flatMap((p) => p.streams.flatMap((s) => s.entries.map((e) => ({ ...e, labels: parseLabels(s.labels) }))));
  const linesOf = (source: string): string[] => arrived().filter((e) => Object.values(e.labels).includes(source)).map((e) => e.line);

  before(async () => {
    const s3 = harness.s3;
    const gz = (name: string) => gzipSync(fixture(name));
    await Promise.all([
      s3.put(BUCKET, KEYS.alb, gz("alb.log")),
      s3.put(BUCKET, KEYS.vpc, gz("vpc-flow-default.log")),
      s3.put(BUCKET, KEYS.cloudtrail, gz("cloudtrail.json")),
      s3.put(BUCKET, KEYS.digest, gzipSync('{"awsAccountId":"123456789012","digestSignatureAlgorithm":"SHA256withRSA"}')),
      s3.put(BUCKET, KEYS.cloudfront, gz("cloudfront.log")),
      s3.put(BUCKET, KEYS.waf, gz("waf.log")),
      s3.put(BUCKET, KEYS.guardduty, gz("guardduty.jsonl")),
      s3.put(BUCKET, KEYS.access, fixture("s3-access.log")),
      s3.put(BUCKET, KEYS.accessSimple, fixture("s3-access.log")),
      s3.put(BUCKET, KEYS.spaces, gz("alb.log")),
      s3.put(BUCKET, KEYS.empty, Buffer.alloc(0)),
      s3.put(BUCKET, KEYS.headerOnly, gzipSync("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")),
      s3.put(BUCKET, KEYS.truncated, (() => { const g = gzipSync(manyLines().join("\n")); return g.subarray(0, g.length >> 1); })()),
      s3.put(BUCKET, KEYS.bigLine, gzipSync(`${BIG_LINE}\n${fixture("waf.log").toString()}`)),
      s3.put(BUCKET, KEYS.crlf, fixture("clb.log").toString().replace(/\n/g, "\r\n")),
      s3.put(BUCKET, KEYS.many, gzipSync(manyLines().join("\n") + "\n")),
      s3.put(BUCKET, KEYS.unknown, "a,b\n1,2\n"),
      s3.put(BUCKET, KEYS.digestReal, gzipSync('{"awsAccountId":"123456789012","digestSignatureAlgorithm":"SHA256withRSA","logFiles":[]}')),
      s3.put(BUCKET, KEYS.elbTestFile, "Enable AccessLog for ELB: my-loadbalancer at 2024-06-01T12:00:00.000Z"),
      s3.put(BUCKET, KEYS.folder, Buffer.alloc(0)),
      s3.put(BUCKET, KEYS.msk, gz("msk.log")),
    ]);
  });

  beforeEach(() => configure());

  it("S3 notification: every format arrives with lambda-promtail's labels, exact lines and timestamps", async () => {
    const event = s3Notification(...[KEYS.alb, KEYS.vpc, KEYS.cloudtrail, KEYS.digest, KEYS.cloudfront, KEYS.waf, KEYS.guardduty, KEYS.access, KEYS.accessSimple].map((k) => s3Record(BUCKET, k)));
    expect(await handler(event)).to.equal(undefined);

    const streams = new Map<string, Arrived[]>();
    for (const e of arrived()) {
      const key = JSON.stringify(e.labels);
      streams.set(key, [...(streams.get(key) ?? []), e]);
    }
    const expected: [Record<string, string>, string[]][] = [
      [albLabels("my-loadbalancer"), fixtureLines("alb.log")],
      [{ __aws_log_type: "s3_vpc_flow", __aws_s3_vpc_flow: "fl-1234abcd", __aws_s3_vpc_flow_owner: "123456789012" }, fixtureLines("vpc-flow-default.log").slice(1)],
      [{ __aws_log_type: "s3_cloudtrail", __aws_s3_cloudtrail: "us-east-2", __aws_s3_cloudtrail_owner: "123456789012" },
        (JSON.parse(fixture("cloudtrail.json").toString()) as { Records: unknown[] }).Records.map((r) => JSON.stringify(r))],
      [{ __aws_log_type: "s3_cloudfront", __aws_s3_cloudfront: "E2K2LNL5N3WR51", __aws_s3_cloudfront_owner: "cf-logs" }, fixtureLines("cloudfront.log").slice(2)],
      [{ __aws_log_type: "s3_waf", __aws_s3_waf: "TEST-WEBACL", __aws_s3_waf_owner: "111122223333" }, fixtureLines("waf.log")],
      [{ __aws_log_type: "s3_guardduty", __aws_s3_guardduty_owner: "123456789012" }, fixtureLines("guardduty.jsonl")],
      // Both S3 access objects hold the same lines: same stream, each line twice.
      [{ __aws_log_type: "s3_access", __aws_s3_access: "amzn-s3-demo-bucket1", __aws_s3_access_owner: "123456789012" }, fixtureLines("s3-access.log")],
      [{ __aws_log_type: "s3_access", __aws_s3_access: "amzn-s3-demo-bucket1" }, fixtureLines("s3-access.log")],
    ];
    expect([...streams.keys()].sort()).to.deep.equal(expected.map(([l]) => JSON.stringify(l)).sort());
    for (const [labels, lines] of expected) {
      const got = streams.get(JSON.stringify(labels)) ?? [];
      expect([...got.map((e) => e.line)].sort(), JSON.stringify(labels)).to.deep.equal([...lines].sort());
    }

    const alb = streams.get(JSON.stringify(albLabels("my-loadbalancer"))) ?? [];
    expect(alb.map((e) => [e.sec, e.nsec])).to.deep.include.members([[1530570180, 186641000], [1530570182, 500000000]]);
    expect(alb[0].metadata).to.deep.equal({ lb_client_ip: "192.168.131.39", s3_key: KEYS.alb });
    const trail = arrived().filter((e) => e.labels.__aws_log_type === "s3_cloudtrail");
    expect(trail.map((e) => e.metadata.cloudtrail_event_id)).to.have.members([
      "e755e09c-42f9-4c5c-9064-EXAMPLE228c7", "0b6c2a8f-4a6e-4c9e-8f0a-EXAMPLE33333", "3c5b3e5d-1111-4b0a-9d6c-EXAMPLE44444",
    ]);
  });

  it("skips CloudTrail digests, the ELB access-log test file and folder placeholders with an info line, counted, without failing", async () => {
    configure({ LOG_LEVEL: "info" });
    const logs = captureFunctionLogs();
    let result;
    try {
      result = await handler(sqsEvent(
        sqsMessage("m-digest", s3Notification(s3Record(BUCKET, KEYS.digestReal))),
        sqsMessage("m-test-file", s3Notification(s3Record(BUCKET, KEYS.elbTestFile))),
        sqsMessage("m-folder", s3Notification(s3Record(BUCKET, KEYS.folder))),
        sqsMessage("m-alb", s3Notification(s3Record(BUCKET, KEYS.alb))),
      ));
    } finally {
      logs.restore();
    }
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(linesOf("my-loadbalancer")).to.deep.equal(fixtureLines("alb.log"));
    expect(logs.withMessage("skipping S3 object: it holds no log lines").map((l) => [l.level, l.object])).to.deep.equal([
      ["INFO", `s3://${BUCKET}/${KEYS.digestReal}`], ["INFO", `s3://${BUCKET}/${KEYS.elbTestFile}`], ["INFO", `s3://${BUCKET}/${KEYS.folder}`],
    ]);
    expect(logs.withMessage("invocation summary")[0]).to.include({ records: 4, failedRecords: 0, skippedObjects: 3 });
  });

  it("MSK broker logs arrive with lambda-promtail's s3_msk labels, stack traces in order after their line", async () => {
    expect(await handler(s3Notification(s3Record(BUCKET, KEYS.msk)))).to.equal(undefined);
    const got = arrived();
    expect(got.map((e) => e.line)).to.deep.equal(fixtureLines("msk.log"));
    expect(got[0].labels).to.deep.equal({
      __aws_log_type: "s3_msk", __aws_s3_msk: "orders-cluster-7f6b9b77-24f9-4921-87b6-d29a6401e292-3", __aws_s3_msk_owner: "123456789012",
    });
    const nanos = got.map((e) => BigInt(e.sec) * 1_000_000_000n + BigInt(e.nsec));
    for (let i = 1; i < nanos.length; i++) expect(nanos[i] > nanos[i - 1], `entry ${i} after entry ${i - 1}`).to.equal(true);
    expect([got[0].sec, got[0].nsec]).to.deep.equal([Date.UTC(2025, 6, 4, 11, 57, 55) / 1000, 836_000_000]);
  });

  it("S3 test event: nothing read, nothing pushed", async () => {
    expect(await handler(S3_TEST_EVENT)).to.equal(undefined);
    expect(loki.requests).to.have.length(0);
  });

  it("reads keys with spaces, unicode and + (URL-encoded in the notification)", async () => {
    await handler(s3Notification(s3Record(BUCKET, KEYS.spaces)));
    const entries = arrived();
    expect(entries.map((e) => e.line)).to.deep.equal(fixtureLines("alb.log"));
    expect(entries[0].labels).to.deep.equal(albLabels("spaced-lb"));
    expect(entries[0].metadata.s3_key).to.equal(KEYS.spaces);
  });

  it("SQS: fails exactly the bad messages in batchItemFailures and ships the good ones", async () => {
    const event = sqsEvent(
      sqsMessage("good-s3", s3Notification(s3Record(BUCKET, KEYS.alb))),
      sqsMessage("bad-json", "this is not an event"),
      sqsMessage("good-sns", snsEnvelope(s3Notification(s3Record(BUCKET, KEYS.waf)))),
      sqsMessage("bad-key", s3Notification(s3Record(BUCKET, KEYS.unknown))),
      sqsMessage("good-eventbridge", eventBridgeEvent(BUCKET, KEYS.vpc)),
      sqsMessage("bad-gzip", s3Notification(s3Record(BUCKET, KEYS.truncated))),
      sqsMessage("missing-object", s3Notification(s3Record(BUCKET, "AWSLogs/123456789012/vpcflowlogs/us-east-1/2014/12/14/123456789012_vpcflowlogs_us-east-1_fl-gone_20141214T0420Z_fe123456.log.gz"))),
      sqsMessage("test-event", S3_TEST_EVENT),
    );
    const response = await handler(event);
    expect(response).to.deep.equal({
      batchItemFailures: [{ itemIdentifier: "bad-json" }, { itemIdentifier: "bad-key" }, { itemIdentifier: "bad-gzip" }, { itemIdentifier: "missing-object" }],
    });
    expect(linesOf("my-loadbalancer")).to.deep.equal(fixtureLines("alb.log"));
    expect(linesOf("TEST-WEBACL")).to.deep.equal(fixtureLines("waf.log"));
    expect(linesOf("fl-1234abcd")).to.deep.equal(fixtureLines("vpc-flow-default.log").slice(1));
  });

  it("SNS: every record's object arrives", async () => {
    expect(await handler(snsEvent({ message: s3Notification(s3Record(BUCKET, KEYS.alb)) }, { message: s3Notification(s3Record(BUCKET, KEYS.guardduty)) }))).to.equal(undefined);
    expect(linesOf("my-loadbalancer")).to.deep.equal(fixtureLines("alb.log"));
    // The batcher sorts each stream by time: compare as sets of lines, counted.
    expect(arrived().filter((e) => e.labels.__aws_log_type === "s3_guardduty").map((e) => e.line).sort()).to.deep.equal(fixtureLines("guardduty.jsonl").sort());
  });

  it("EventBridge: an Object Created event is read; other events fail the invocation clearly", async () => {
    expect(await handler(eventBridgeEvent(BUCKET, KEYS.cloudfront))).to.equal(undefined);
    expect(linesOf("E2K2LNL5N3WR51")).to.deep.equal(fixtureLines("cloudfront.log").slice(2));

    // A key with a literal +, a space and unicode: as it comes, or form-encoded, both are found.
    loki.reset();
    expect(await handler(eventBridgeEvent(BUCKET, KEYS.spaces))).to.equal(undefined);
    expect(await handler(eventBridgeEvent(BUCKET, notificationKey(KEYS.spaces)))).to.equal(undefined);
    expect(linesOf("spaced-lb")).to.deep.equal([...fixtureLines("alb.log"), ...fixtureLines("alb.log")]);
    expect(arrived().every((e) => e.metadata.s3_key === KEYS.spaces)).to.equal(true);

    let error: Error | undefined;
    try {
      await handler(eventBridgeEvent(BUCKET, KEYS.cloudfront, { source: "aws.ec2", "detail-type": "EC2 Instance State-change Notification" }));
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.contain("EventBridge event");
  });

  it("nasty objects: empty and header-only ship nothing, CRLF is stripped", async () => {
    const event = s3Notification(s3Record(BUCKET, KEYS.empty), s3Record(BUCKET, KEYS.headerOnly), s3Record(BUCKET, KEYS.crlf));
    expect(await handler(event)).to.equal(undefined);
    expect(linesOf("crlf-clb")).to.deep.equal(fixtureLines("clb.log"));
    expect(arrived().filter((e) => ["empty-lb", "fl-header0only"].some((s) => Object.values(e.labels).includes(s)))).to.have.length(0);
  });

  // A 1 MB line: Loki (max_line_size 256 KB) would refuse it, so it is cut or left out, counted.
  const longLineCases: { action: string | undefined; env: Record<string, string>; first: string[]; summary: Record<string, number> }[] = [
    { action: "truncate (default)", env: {}, first: [BIG_LINE.slice(0, 262144)], summary: { truncatedLines: 1, droppedLongLines: 0 } },
    { action: "truncate at 100KB", env: { MAX_LINE_SIZE: "100KB", MAX_LINE_SIZE_ACTION: "truncate" }, first: [BIG_LINE.slice(0, 102400)], summary: { truncatedLines: 1, droppedLongLines: 0 } },
    { action: "drop", env: { MAX_LINE_SIZE_ACTION: "drop" }, first: [], summary: { truncatedLines: 0, droppedLongLines: 1 } },
    { action: "split", env: { MAX_LINE_SIZE_ACTION: "split" }, first: limitLine(BIG_LINE, 262144, "split") as string[], summary: { truncatedLines: 0, droppedLongLines: 0, splitLines: 1 } },
  ];
  for (const { action, env, first, summary } of longLineCases) {
    it(`a 1 MB line in an S3 object, MAX_LINE_SIZE_ACTION ${action}: counted in the summary, the other lines arrive whole`, async () => {
      configure({ LOG_LEVEL: "info", ...env });
      const logs = captureFunctionLogs();
      try {
        expect(await handler(s3Notification(s3Record(BUCKET, KEYS.bigLine)))).to.equal(undefined);
      } finally {
        logs.restore();
      }
      // One push holds them all; pushes list a stream's entries by time.
      expect(linesOf("BIG-ACL").sort()).to.deep.equal([...first, ...fixtureLines("waf.log")].sort());
      expect(logs.withMessage("invocation summary")[0]).to.include({ failedRecords: 0, ...summary });
      // The pieces of a split line: in order, with the line's own timestamp (read from its first piece).
      const pieces = arrived().filter((e) => first.includes(e.line));
      expect(pieces.map((e) => e.line)).to.deep.equal(first);
      expect(new Set(pieces.map((e) => `${e.sec}.${e.nsec}`))).to.have.lengthOf(first.length > 0 ? 1 : 0);
      if (first.length > 0) expect(pieces[0].sec).to.equal(1693457862);
    });
  }

  it("a truncated gzip or unknown key fails an S3 invocation, naming the object; the good objects still arrive", async () => {
    let error: Error | undefined;
    try {
      await handler(s3Notification(s3Record(BUCKET, KEYS.truncated), s3Record(BUCKET, KEYS.unknown), s3Record(BUCKET, KEYS.alb)));
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.contain("2 of 3 s3 records failed").and.contain("truncated-lb").and.contain(KEYS.unknown);
    expect(linesOf("my-loadbalancer")).to.deep.equal(fixtureLines("alb.log"));
  });

  it("lines without a time of their own are stamped with the event time, never the clock", async () => {
    const key = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/01/123456789012_vpcflowlogs_us-east-1_fl-nostart_20240601T1200Z_fe123456.log.gz";
    await harness.s3.put(BUCKET, key, gzipSync(fixture("vpc-flow-no-start.log")));
    await handler(s3Notification(s3Record(BUCKET, key)));
    await handler(s3Notification(s3Record(BUCKET, key)));
    expect(arrived().map((e) => [e.sec, e.nsec])).to.deep.equal([[EVENT_TIMESTAMP.sec, EVENT_TIMESTAMP.nsec], [EVENT_TIMESTAMP.sec, EVENT_TIMESTAMP.nsec]]);
  });

  it("retrying an object after Loki answered 500 produces no new distinct entries", async () => {
    configure({ BATCH_SIZE: "65536" });
    const event = s3Notification(s3Record(BUCKET, KEYS.many));
    // First attempt: the first push is stored, then Loki fails until the invocation's time is up.
    loki.respondWith(204, ...Array<number>(200).fill(500));
    const shortContext = { awsRequestId: "attempt-1", getRemainingTimeInMillis: (() => { const end = Date.now() + 1500; return () => end - Date.now(); })() };
    let firstError: Error | undefined;
    try {
      await handler(event, shortContext);
    } catch (err) {
      firstError = err as Error;
    }
    expect(firstError?.message).to.contain("1 of 1 s3 records failed");
    const firstAttempt = countEntries(loki.acceptedPushes());
    expect(firstAttempt.distinct).to.be.greaterThan(0).and.lessThan(MANY_LINES);

    // Lambda retries the event: Loki is healthy again.
    const stored = loki.acceptedPushes();
    loki.reset();
    expect(await handler(event)).to.equal(undefined);
    const both = countEntries([...stored, ...loki.acceptedPushes()]);
    // Every line arrives, and the re-sent ones are identical (labels, timestamp, line) to the
    // stored ones, so Loki keeps each line exactly once.
    expect(both.distinct).to.equal(MANY_LINES);
    expect(countEntries(loki.acceptedPushes()).distinct).to.equal(MANY_LINES);
    expect(both.duplicates).to.equal(firstAttempt.total);
  });
});
