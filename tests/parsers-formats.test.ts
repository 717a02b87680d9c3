/**
 * Every S3 log format, parsed from fixtures written from AWS's documented layouts: which lines
 * become entries, their exact timestamps (sub-second precision kept), and the per-entry
 * structured metadata. Pure: no S3, no clock.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { decompress } from "../handler/parsers/decompress";
import { FORMATS, FormatId, LbVariant } from "../handler/parsers/index";
import { isFlowLogHeader } from "../handler/parsers/vpc-flow";
import { BadRecordError, LogEntry } from "../handler/types";
import { failure } from "./support/events";

const FIXTURES = join(__dirname, "fixtures", "s3");
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));
const FALLBACK = { sec: 1_700_000_000, nsec: 123_000_000 };

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function parse(format: FormatId, bytes: Uint8Array, opts: { want?: string[]; lbVariant?: LbVariant; chunk?: number } = {}): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  const input = decompress(chunked(gzipSync(bytes), opts.chunk ?? 512), "s3://b/k");
  for await (const batch of FORMATS[format].parse(input, { fallback: FALLBACK, want: new Set(opts.want ?? []), what: "s3://b/k", lbVariant: opts.lbVariant })) {
    expect(batch.length, "parsers hand out entries in non-empty arrays").to.be.above(0);
    entries.push(...batch);
  }
  return entries;
}

const iso = (e: LogEntry): string => `${new Date(e.sec * 1000).toISOString().slice(0, 19)}.${String(e.nsec).padStart(9, "0")}Z`;
const lines = (name: string): string[] => fixture(name).toString("utf8").split("\n").filter((l) => l !== "");

describe("S3 log formats", () => {
  describe("load balancers (s3_lb)", () => {
    it("ALB access logs: every line, microsecond timestamps, client IP and trace id on request", async () => {
      const entries = await parse("lb", fixture("alb.log"), { lbVariant: "alb", want: ["lb_client_ip", "lb_trace_id"] });
      expect(entries.map((e) => e.line)).to.deep.equal(lines("alb.log"));
      expect(entries.map(iso)).to.deep.equal([
        "2018-07-02T22:23:00.186641000Z",
        "2018-07-02T22:23:00.286641000Z",
        "2018-07-02T22:23:01.000001000Z",
        "2018-07-02T22:23:02.500000000Z",
      ]);
      expect(entries.map((e) => e.metadata)).to.deep.equal([
        { lb_client_ip: "192.168.131.39", lb_trace_id: "Root=1-58337262-36d228ad5d99923122bbe354" },
        { lb_client_ip: "192.168.131.39", lb_trace_id: "Root=1-58337281-1d84f3d73c47ec4e58577259" },
        { lb_client_ip: "2001:db8:85a3::8a2e:370:7334", lb_trace_id: "Root=1-58337327-72bd00b0343d75b906739c42" },
        { lb_client_ip: "10.0.0.140" },
      ]);
    });

    it("computes no metadata nobody asked for", async () => {
      const entries = await parse("lb", fixture("alb.log"), { lbVariant: "alb" });
      expect(entries.every((e) => e.metadata === undefined)).to.equal(true);
    });

    it("NLB access logs: timestamps without zone are UTC", async () => {
      const entries = await parse("lb", fixture("nlb.log"), { lbVariant: "nlb", want: ["lb_client_ip", "lb_trace_id"] });
      expect(entries.map(iso)).to.deep.equal(["2018-12-20T02:59:40.000000000Z", "2020-04-01T08:51:42.000000000Z"]);
      expect(entries.map((e) => e.metadata)).to.deep.equal([{ lb_client_ip: "72.21.218.154" }, { lb_client_ip: "192.168.1.10" }]);
    });

    it("CLB access logs", async () => {
      const entries = await parse("lb", fixture("clb.log"), { lbVariant: "clb", want: ["lb_client_ip"] });
      expect(entries.map(iso)).to.deep.equal(["2015-05-13T23:39:43.945958000Z", "2015-05-13T23:39:43.945958000Z", "2015-05-13T23:39:44.000001000Z"]);
      expect(entries[0].metadata).to.deep.equal({ lb_client_ip: "192.168.131.39" });
    });

    it("ALB connection logs: the client IP is a field of its own (IPv6 kept whole)", async () => {
      const entries = await parse("lb", fixture("alb-connection.log"), { lbVariant: "alb_connection", want: ["lb_client_ip"] });
      expect(entries.map(iso)).to.deep.equal(["2023-10-04T17:03:56.431279000Z", "2023-10-04T17:03:57.000000000Z"]);
      expect(entries.map((e) => e.metadata)).to.deep.equal([{ lb_client_ip: "203.0.113.5" }, { lb_client_ip: "2001:db8::17" }]);
    });

    it("ALB health check logs", async () => {
      const entries = await parse("lb", fixture("alb-health-check.log"), { lbVariant: "alb_health_check", want: ["lb_client_ip"] });
      expect(entries.map(iso)).to.deep.equal(["2025-11-21T10:15:02.123456000Z", "2025-11-21T10:15:07.223456000Z"]);
      expect(entries.every((e) => e.metadata === undefined)).to.equal(true);
    });

    it("stamps a line without a time with the event time, never the clock", async () => {
      const [entry] = await parse("lb", Buffer.from("garbage line without a time\n"), { lbVariant: "alb" });
      expect(entry).to.deep.equal({ ...FALLBACK, line: "garbage line without a time" });
    });

    it("reads CRLF files and lines across day boundaries", async () => {
      const text = "http 2023-12-31T23:59:59.999999Z app/x/1 1.2.3.4:5 - 0 0 0 200 200 1 1 \"GET / HTTP/1.1\" \"-\" - -\r\n" +
        "http 2024-01-01T00:00:00.000001Z app/x/1 1.2.3.4:5 - 0 0 0 200 200 1 1 \"GET / HTTP/1.1\" \"-\" - -\r\n";
      const entries = await parse("lb", Buffer.from(text), { lbVariant: "alb", chunk: 7 });
      expect(entries.map(iso)).to.deep.equal(["2023-12-31T23:59:59.999999000Z", "2024-01-01T00:00:00.000001000Z"]);
      expect(entries.every((e) => !e.line.endsWith("\r"))).to.equal(true);
    });
  });

  describe("VPC flow logs (s3_vpc_flow)", () => {
    it("default format: header read, not shipped; stamped with start", async () => {
      const entries = await parse("vpc_flow", fixture("vpc-flow-default.log"));
      expect(entries.map((e) => e.line)).to.deep.equal(lines("vpc-flow-default.log").slice(1));
      expect(entries.map((e) => [e.sec, e.nsec])).to.deep.equal([[1418530010, 0], [1418530011, 0], [1431280876, 0]]);
    });

    it("custom format: finds start wherever the header puts it", async () => {
      const entries = await parse("vpc_flow", fixture("vpc-flow-custom.log"));
      expect(entries.map((e) => e.sec)).to.deep.equal([1620000000, 1620000001]);
    });

    it("custom format without start: event time", async () => {
      const entries = await parse("vpc_flow", fixture("vpc-flow-no-start.log"));
      expect(entries).to.deep.equal([{ ...FALLBACK, line: "5 vpc-0a1b2c3d 10.0.0.1 10.0.0.2 ACCEPT" }]);
    });

    it("a file without header is read in the default format, first line included", async () => {
      const entries = await parse("vpc_flow", Buffer.from("2 123456789010 eni-1 1.1.1.1 2.2.2.2 1 2 6 1 1 1418530099 1418530100 ACCEPT OK\n"));
      expect(entries.map((e) => e.sec)).to.deep.equal([1418530099]);
    });

    it("a header-only file yields no entries", async () => {
      expect(await parse("vpc_flow", Buffer.from("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"))).to.deep.equal([]);
    });

    it("tells headers from records", () => {
      expect(isFlowLogHeader("version vpc-id subnet-id start end")).to.equal(true);
      expect(isFlowLogHeader("eni-1 10.0.0.1 ACCEPT OK")).to.equal(false);
      expect(isFlowLogHeader("i-0123 eni-1")).to.equal(false);
    });
  });

  describe("CloudTrail (s3_cloudtrail)", () => {
    it("streams the Records array: one compact JSON line per record, stamped with eventTime", async () => {
      const entries = await parse("cloudtrail", fixture("cloudtrail.json"), { want: ["cloudtrail_event_id"], chunk: 100 });
      const records = (JSON.parse(fixture("cloudtrail.json").toString("utf8")) as { Records: unknown[] }).Records;
      expect(entries.map((e) => e.line)).to.deep.equal(records.map((r) => JSON.stringify(r)));
      expect(entries.map(iso)).to.deep.equal(["2023-05-19T07:44:30.000000000Z", "2023-05-19T07:44:34.000000000Z", "2023-05-19T07:45:01.000000000Z"]);
      expect(entries.map((e) => e.metadata?.cloudtrail_event_id)).to.deep.equal([
        "e755e09c-42f9-4c5c-9064-EXAMPLE228c7", "0b6c2a8f-4a6e-4c9e-8f0a-EXAMPLE33333", "3c5b3e5d-1111-4b0a-9d6c-EXAMPLE44444",
      ]);
    });

    it("an empty Records array or an empty object yields no entries", async () => {
      expect(await parse("cloudtrail", Buffer.from('{"Records":[]}'))).to.deep.equal([]);
      expect(await parse("cloudtrail", Buffer.alloc(0))).to.deep.equal([]);
    });

    it("a record without eventTime gets the event time", async () => {
      const entries = await parse("cloudtrail", Buffer.from('{"Records":[{"eventName":"X"}]}'));
      expect(entries).to.deep.equal([{ ...FALLBACK, line: '{"eventName":"X"}' }]);
    });

    it("truncated JSON fails with a BadRecordError naming the object", async () => {
      const text = fixture("cloudtrail.json").toString("utf8");
      const err = await failure(parse("cloudtrail", Buffer.from(text.slice(0, text.length - 40))));
      expect(err).to.be.instanceOf(BadRecordError);
      expect(err.message).to.contain("s3://b/k").and.contain("not a valid CloudTrail log file");
    });

    it("a file of many records arrives whole, and a truncated one hands out every complete record before failing", async () => {
      // About 700 KB of records: several of the arrays the parser hands out.
      const records = Array.from({ length: 600 }, (_, i) => ({ eventTime: "2024-01-01T00:00:00Z", eventID: `id-${i}`, userAgent: "a".repeat(1100) }));
      const text = JSON.stringify({ Records: records });
      expect((await parse("cloudtrail", Buffer.from(text))).length).to.equal(600);

      const handedOut: LogEntry[] = [];
      let arrays = 0;
      const input = decompress(chunked(gzipSync(Buffer.from(text.slice(0, -20))), 512), "s3://b/k");
      const err = await failure((async () => {
        for await (const batch of FORMATS.cloudtrail.parse(input, { fallback: FALLBACK, want: new Set(), what: "s3://b/k" })) {
          handedOut.push(...batch);
          arrays++;
        }
      })());
      expect(err).to.be.instanceOf(BadRecordError);
      expect(arrays).to.equal(3);
      expect(handedOut.map((e) => JSON.parse(e.line).eventID)).to.deep.equal(records.slice(0, 599).map((r) => r.eventID));
    });
  });

  describe("CloudFront standard logs (s3_cloudfront)", () => {
    it("skips # lines, stamps date + time, reads fields by the #Fields header", async () => {
      const entries = await parse("cloudfront", fixture("cloudfront.log"), { want: ["cloudfront_client_ip", "cloudfront_request_id"] });
      expect(entries.map((e) => e.line)).to.deep.equal(lines("cloudfront.log").slice(2));
      expect(entries.map(iso)).to.deep.equal(["2019-12-04T21:02:31.000000000Z", "2019-12-04T21:02:31.000000000Z", "2019-12-13T22:36:27.000000000Z"]);
      expect(entries[2].metadata).to.deep.equal({ cloudfront_client_ip: "192.0.2.200", cloudfront_request_id: "1pkpNfBQ39sYMnjjUQjmH2w1wdJnbHYTbag21o_3OfcQgPzdL2RSSQ==" });
    });

    it("follows a #Fields header with another order", async () => {
      const text = "#Version: 1.0\n#Fields: c-ip time date\n198.51.100.1\t01:02:03\t2020-02-29\n";
      const entries = await parse("cloudfront", Buffer.from(text), { want: ["cloudfront_client_ip"] });
      expect(entries.map(iso)).to.deep.equal(["2020-02-29T01:02:03.000000000Z"]);
      expect(entries[0].metadata).to.deep.equal({ cloudfront_client_ip: "198.51.100.1" });
    });

    it("a header-only file yields no entries", async () => {
      expect(await parse("cloudfront", Buffer.from("#Version: 1.0\n#Fields: date time c-ip\n"))).to.deep.equal([]);
    });
  });

  describe("WAF (s3_waf)", () => {
    it("one entry per JSON line with its millisecond timestamp", async () => {
      const entries = await parse("waf", fixture("waf.log"), { want: ["waf_client_ip", "waf_request_id"] });
      expect(entries.map((e) => e.line)).to.deep.equal(lines("waf.log"));
      expect(entries.map(iso)).to.deep.equal(["2019-12-13T23:40:12.771000000Z", "2023-08-31T04:57:42.729000000Z"]);
      expect(entries.map((e) => e.metadata)).to.deep.equal([
        { waf_client_ip: "1.1.1.1", waf_request_id: "rid" },
        { waf_client_ip: "203.0.113.7", waf_request_id: "1-64f01d46-0b1c2d3e4f5a6b7c8d9e0f1a" },
      ]);
    });
  });

  describe("GuardDuty (s3_guardduty)", () => {
    it("one entry per finding, stamped with updatedAt, not the first time in the JSON", async () => {
      const entries = await parse("guardduty", fixture("guardduty.jsonl"), { want: ["guardduty_finding_id"] });
      expect(entries.map((e) => e.line)).to.deep.equal(lines("guardduty.jsonl"));
      expect(entries.map(iso)).to.deep.equal(["2024-05-30T07:01:05.123000000Z", "2024-05-30T03:10:00.000000000Z"]);
      expect(entries.map((e) => e.metadata)).to.deep.equal([
        { guardduty_finding_id: "16afba5c5c43e07c9e3e5e2e544e95df" },
        { guardduty_finding_id: "a4c1d9e3b5f7a2c4e6f8b0d2a4c6e8f0" },
      ]);
    });

    it("ships a line that is not JSON with the event time instead of dropping it", async () => {
      expect(await parse("guardduty", Buffer.from("not json\n"))).to.deep.equal([{ ...FALLBACK, line: "not json" }]);
    });
  });

  describe("MSK broker logs (s3_msk)", () => {
    it("stamps each line with its leading UTC time, milliseconds kept", async () => {
      const entries = await parse("msk", fixture("msk.log"));
      expect(entries.map((e) => e.line)).to.deep.equal(lines("msk.log"));
      expect(entries.slice(0, 4).map(iso)).to.deep.equal([
        "2025-07-04T11:57:55.836000000Z", "2025-07-04T11:57:55.839000000Z", "2025-07-04T11:58:01.204000000Z", "2025-07-04T11:58:02.517000000Z",
      ]);
      expect(iso(entries[entries.length - 1])).to.equal("2025-07-04T11:58:02.519000000Z");
    });

    it("stamps stack-trace lines with the previous line's time plus 1 ns each: ordered, and identical frames kept apart", async () => {
      const entries = await parse("msk", fixture("msk.log"));
      expect(entries.slice(3, 9).map(iso)).to.deep.equal([
        "2025-07-04T11:58:02.517000000Z", "2025-07-04T11:58:02.517000001Z", "2025-07-04T11:58:02.517000002Z",
        "2025-07-04T11:58:02.517000003Z", "2025-07-04T11:58:02.517000004Z", "2025-07-04T11:58:02.517000005Z",
      ]);
      const [frameA, frameB] = [entries[6], entries[7]];
      expect(frameA.line).to.equal(frameB.line, "the fixture repeats a frame, as recursive traces do");
      expect([frameA.sec, frameA.nsec]).to.not.deep.equal([frameB.sec, frameB.nsec]);
    });

    it("stamps lines before the first timed one with the event time (never the clock), and never reads a time elsewhere in a line", async () => {
      const text = "\tat a.B.c(B.java:1)\nCaused by: x [2025-07-04 11:58:02,517] y\n[2025-07-04 11:58:03,000] INFO z\n";
      const entries = await parse("msk", Buffer.from(text));
      expect(entries.map((e) => [e.sec, e.nsec])).to.deep.equal([
        [FALLBACK.sec, FALLBACK.nsec + 1], [FALLBACK.sec, FALLBACK.nsec + 2], [Date.UTC(2025, 6, 4, 11, 58, 3) / 1000, 0],
      ]);
    });
  });

  describe("S3 server access logs (s3_access)", () => {
    it("stamps the bracketed time (with its zone offset), reads remote IP and request id", async () => {
      const entries = await parse("s3_access", fixture("s3-access.log"), { want: ["s3_access_remote_ip", "s3_access_request_id"] });
      expect(entries.map((e) => e.line)).to.deep.equal(lines("s3-access.log"));
      expect(entries.map(iso)).to.deep.equal(["2019-02-06T00:00:38.000000000Z", "2019-02-06T00:00:38.000000000Z", "2019-02-06T02:00:38.000000000Z"]);
      expect(entries.map((e) => e.metadata)).to.deep.equal([
        { s3_access_remote_ip: "192.0.2.3", s3_access_request_id: "3E57427F3EXAMPLE" },
        { s3_access_remote_ip: "192.0.2.3", s3_access_request_id: "891CE47D2EXAMPLE" },
        { s3_access_remote_ip: "192.0.2.4", s3_access_request_id: "891CE47D2EXAMPLF" },
      ]);
    });

    it("takes the source bucket from the first line for the simple key form", () => {
      const labels = FORMATS.s3_access.labelsFromFirstLine?.(lines("s3-access.log")[0], {
        format: "s3_access", logType: "s3_access", labels: { __aws_log_type: "s3_access" },
      });
      expect(labels).to.deep.equal({ __aws_log_type: "s3_access", __aws_s3_access: "amzn-s3-demo-bucket1" });
    });
  });

  describe("a line's own time outside what Loki can store counts as no time: the event time, the object still ships", () => {
    // Loki refuses a whole push holding one time outside 0001..9999: such a line used to fail its
    // object, and every retry of it, until the dead-letter queue.
    const GOOD_ALB = "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 \"GET http://www.example.com:80/ HTTP/1.1\" \"curl/7.46.0\" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 \"Root=1-58337262-36d228ad5d99923122bbe354\"";
    const cases: { name: string; format: FormatId; lbVariant?: LbVariant; text: string; times: [number, number][] }[] = [
      { name: "ALB access, year 0000", format: "lb", lbVariant: "alb", text: `${GOOD_ALB.replace("2018-07-02T22:23:00.186641Z", "0000-07-02T22:23:00.186641Z")}\n${GOOD_ALB}\n`,
        times: [[FALLBACK.sec, FALLBACK.nsec], [1530570180, 186641000]] },
      { name: "VPC flow, a 12-digit start", format: "vpc_flow",
        text: "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
          + "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 999999999999 1418530070 ACCEPT OK\n"
          + "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n",
        times: [[FALLBACK.sec, FALLBACK.nsec], [1418530010, 0]] },
      { name: "CloudFront, year 0000", format: "cloudfront", text: "0000-12-04\t21:02:31\tLAX1\n2019-12-04\t21:02:31\tLAX1\n",
        times: [[FALLBACK.sec, FALLBACK.nsec], [1575493351, 0]] },
      { name: "S3 access, year 0000", format: "s3_access", text: "o b [06/Feb/0000:00:00:38 +0000] 192.0.2.3 -\no b [06/Feb/2019:00:00:38 +0000] 192.0.2.3 -\n",
        times: [[FALLBACK.sec, FALLBACK.nsec], [1549411238, 0]] },
      // MSK: the line continues the one before it (here: the first line, so the event time + 1 ns).
      { name: "MSK, year 0000", format: "msk", text: "[0000-07-04 11:57:55,836] INFO a\n[2025-07-04 11:57:55,836] INFO b\n",
        times: [[FALLBACK.sec, FALLBACK.nsec + 1], [Date.UTC(2025, 6, 4, 11, 57, 55) / 1000, 836_000_000]] },
    ];
    for (const { name, format, lbVariant, text, times } of cases) {
      it(name, async () => {
        const entries = await parse(format, Buffer.from(text), { lbVariant });
        expect(entries.map((e) => [e.sec, e.nsec])).to.deep.equal(times);
      });
    }

    // A time the calendar does not have (a damaged line) is no time either: Date.UTC rolled it over
    // into another, real time (month 13 into next January, 31 June into 1 July, 25:00 into the
    // next day), and the line was stamped with that instead of its event time.
    const alb = (time: string): string => GOOD_ALB.replace("2018-07-02T22:23:00.186641Z", time);
    const impossible: { name: string; format: FormatId; lbVariant?: LbVariant; text: string; times: [number, number][] }[] = [
      { name: "ALB access, month 13", format: "lb", lbVariant: "alb", text: `${alb("2018-13-02T22:23:00.186641Z")}\n`, times: [[FALLBACK.sec, FALLBACK.nsec]] },
      { name: "ALB access, 31 June", format: "lb", lbVariant: "alb", text: `${alb("2018-06-31T22:23:00.5Z")}\n`, times: [[FALLBACK.sec, FALLBACK.nsec]] },
      { name: "ALB access, 29 February of a common year", format: "lb", lbVariant: "alb", text: `${alb("2018-02-29T22:23:00Z")}\n`, times: [[FALLBACK.sec, FALLBACK.nsec]] },
      { name: "ALB access, 29 February of a leap year is a day", format: "lb", lbVariant: "alb", text: `${alb("2016-02-29T22:23:00Z")}\n`, times: [[Date.UTC(2016, 1, 29, 22, 23, 0) / 1000, 0]] },
      { name: "ALB access, 25 o'clock", format: "lb", lbVariant: "alb", text: `${alb("2018-07-02T25:23:00Z")}\n`, times: [[FALLBACK.sec, FALLBACK.nsec]] },
      { name: "ALB access, minute 60", format: "lb", lbVariant: "alb", text: `${alb("2018-07-02T22:60:00Z")}\n`, times: [[FALLBACK.sec, FALLBACK.nsec]] },
      { name: "ALB access, a leap second reads as the next second", format: "lb", lbVariant: "alb", text: `${alb("2016-12-31T23:59:60Z")}\n`, times: [[Date.UTC(2017, 0, 1) / 1000, 0]] },
      { name: "ALB access, day 00", format: "lb", lbVariant: "alb", text: `${alb("2018-07-00T22:23:00Z")}\n`, times: [[FALLBACK.sec, FALLBACK.nsec]] },
      { name: "CloudFront, 31 April", format: "cloudfront", text: "2019-04-31\t21:02:31\tLAX1\n", times: [[FALLBACK.sec, FALLBACK.nsec]] },
      { name: "CloudFront, 24:00", format: "cloudfront", text: "2019-12-04\t24:00:00\tLAX1\n", times: [[FALLBACK.sec, FALLBACK.nsec]] },
      { name: "S3 access, 30 February", format: "s3_access", text: "o b [30/Feb/2019:00:00:38 +0000] 192.0.2.3 -\n", times: [[FALLBACK.sec, FALLBACK.nsec]] },
      { name: "S3 access, a zone 23 h 99 min east", format: "s3_access", text: "o b [06/Feb/2019:00:00:38 +2399] 192.0.2.3 -\n", times: [[FALLBACK.sec, FALLBACK.nsec]] },
      { name: "MSK, month 00 (continues the line before)", format: "msk", text: "[2025-00-04 11:57:55,836] INFO a\n", times: [[FALLBACK.sec, FALLBACK.nsec + 1]] },
    ];
    for (const { name, format, lbVariant, text, times } of impossible) {
      it(name, async () => {
        const entries = await parse(format, Buffer.from(text), { lbVariant });
        expect(entries.map((e) => [e.sec, e.nsec])).to.deep.equal(times);
      });
    }

    it("also with MAX_LINE_SIZE_ACTION=split: the pieces of such a line take the event time", async () => {
      const line = "http 0000-07-02T22:23:00.186641Z " + "x".repeat(3000);
      const entries: LogEntry[] = [];
      for await (const batch of FORMATS.lb.parse(chunked(Buffer.from(line + "\n"), 512), { fallback: FALLBACK, want: new Set(), what: "s3://b/k", lbVariant: "alb", maxLineBytes: 1024, splitLongLines: true })) entries.push(...batch);
      expect(entries).to.have.length(3);
      expect(entries.map((e) => [e.sec, e.nsec])).to.deep.equal(Array(3).fill([FALLBACK.sec, FALLBACK.nsec]));
    });
  });
});
