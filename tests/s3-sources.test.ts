/**
 * The S3-announcing event sources without S3: how S3 notifications, SQS bodies, SNS messages
 * and EventBridge events become records and object references, and how bad ones fail.
 */
import { expect } from "chai";
import { eventBridgeRecords } from "../handler/sources/eventbridge";
import { s3Records } from "../handler/sources/s3";
import { decodeNotificationKey, refFromEventBridge, refsFromMessage, refsFromS3Notification } from "../handler/sources/s3-notification";
import { snsRecords } from "../handler/sources/sns";
import { sqsRecords } from "../handler/sources/sqs";
import { BadRecordError } from "../handler/types";
import { MemoryLog, drain, failure, sourceContext } from "./support/events";
import { eventBridgeEvent, EVENT_TIME, s3Notification, s3Record, S3_TEST_EVENT, snsEnvelope, snsEvent, sqsEvent, sqsMessage } from "./support/s3-events";

const KEY = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/06/01/123456789012_elasticloadbalancing_us-east-1_app.web.0123456789abcdef_20240601T1200Z_10.0.0.1_abcd1234.log.gz";

describe("S3-announcing event sources", () => {
  const log = new MemoryLog();

  describe("object keys", () => {
    it("decodes form-encoded keys: + is a space, %2B a plus, unicode percent-encoded", () => {
      expect(decodeNotificationKey("my+prefix/a%2Bb/%C3%BC%E2%9C%93.log")).to.equal("my prefix/a+b/ü✓.log");
    });

    it("rejects malformed percent encoding as a bad record", () => {
      expect(() => decodeNotificationKey("bad%E2%9Ckey", "S3 event record 0")).to.throw(BadRecordError, /S3 event record 0: object key "bad%E2%9Ckey"/);
    });
  });

  describe("S3 notifications", () => {
    it("gives bucket, decoded key, region and event time per record", () => {
      const refs = refsFromS3Notification(s3Notification(s3Record("logs", `my prefix/${KEY}`), s3Record("other", KEY, { region: "eu-west-1" })), "event", log);
      expect(refs).to.deep.equal([
        { bucket: "logs", key: `my prefix/${KEY}`, region: "us-east-1", eventTime: EVENT_TIME },
        { bucket: "other", key: KEY, region: "eu-west-1", eventTime: EVENT_TIME },
      ]);
    });

    it("ignores events that do not create objects, with a warning", () => {
      const quiet = new MemoryLog();
      expect(refsFromS3Notification(s3Notification(s3Record("logs", KEY, { eventName: "ObjectRemoved:Delete" })), "event", quiet)).to.deep.equal([]);
      expect(quiet.messages("warn")).to.have.length(1);
    });

    it("yields no records for the S3 test event", () => {
      expect(s3Records(S3_TEST_EVENT as never, sourceContext())).to.deep.equal([]);
    });

    it("makes one record per S3 record, described by its object, without reading anything", () => {
      const records = s3Records(s3Notification(s3Record("logs", "a b/ü.log"), s3Record("logs", KEY)) as never, sourceContext());
      expect(records.map((r) => r.describe)).to.deep.equal(["s3://logs/a b/ü.log", `s3://logs/${KEY}`]);
      expect(records.every((r) => r.itemIdentifier === undefined)).to.equal(true);
    });

    it("fails a record whose key names no known log type, naming the key", async () => {
      const [record] = s3Records(s3Notification(s3Record("logs", "exports/report 2024.csv")) as never, sourceContext());
      const err = await failure(drain(record));
      expect(err).to.be.instanceOf(BadRecordError);
      expect(err.message).to.contain("s3://logs/exports/report 2024.csv").and.contain("cannot tell the log type");
    });
  });

  describe("message bodies (SQS, SNS)", () => {
    it("reads an S3 notification", () => {
      expect(refsFromMessage(JSON.stringify(s3Notification(s3Record("logs", KEY))), "m", log)).to.have.length(1);
    });

    it("reads an SNS envelope around an S3 notification", () => {
      const refs = refsFromMessage(JSON.stringify(snsEnvelope(s3Notification(s3Record("logs", KEY)))), "m", log);
      expect(refs).to.deep.equal([{ bucket: "logs", key: KEY, region: "us-east-1", eventTime: EVENT_TIME }]);
    });

    it("reads an EventBridge Object Created event, with its key as is", () => {
      const refs = refsFromMessage(JSON.stringify(eventBridgeEvent("logs", "a+b%20c/" + KEY)), "m", log);
      expect(refs).to.deep.equal([{ bucket: "logs", key: "a+b%20c/" + KEY, region: "us-east-1", eventTime: "2024-06-01T12:00:00Z", alternateKey: "a b c/" + KEY }]);
      expect(refFromEventBridge(eventBridgeEvent("logs", KEY), "e")).not.to.have.property("alternateKey");
    });

    it("keeps the version a versioned bucket's event announces (S3 versionId, EventBridge version-id), none otherwise", () => {
      const record = s3Record("logs", KEY);
      const versioned = { ...record, s3: { ...record.s3, object: { ...record.s3.object, versionId: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY" } } };
      const unversioned = { ...record, s3: { ...record.s3, object: { ...record.s3.object, versionId: null } } };
      expect(refsFromMessage(JSON.stringify(s3Notification(versioned, unversioned)), "m", log).map((r) => r.versionId)).to.deep.equal(["3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", undefined]);
      const event = eventBridgeEvent("logs", KEY);
      const versionedEvent = { ...event, detail: { ...event.detail, object: { ...event.detail.object, "version-id": "uhggCJ2_B6gU2JaXWXebnXFDstO0ID6G" } } };
      expect(refFromEventBridge(versionedEvent, "e").versionId).to.equal("uhggCJ2_B6gU2JaXWXebnXFDstO0ID6G");
      expect(refFromEventBridge(event, "e")).not.to.have.property("versionId");
    });

    it("reads the S3 test event, also inside an SNS envelope, as nothing to do", () => {
      expect(refsFromMessage(JSON.stringify(S3_TEST_EVENT), "m", log)).to.deep.equal([]);
      expect(refsFromMessage(JSON.stringify(snsEnvelope(S3_TEST_EVENT)), "m", log)).to.deep.equal([]);
    });

    for (const [name, body] of [
      ["not JSON", "hello"],
      ["a JSON array", "[1,2]"],
      ["another JSON object", '{"foo":1}'],
      ["records of another service", JSON.stringify({ Records: [{ eventSource: "aws:dynamodb" }] })],
      ["an S3 record without key", JSON.stringify({ Records: [{ eventSource: "aws:s3", s3: { bucket: { name: "b" }, object: {} } }] })],
      ["an SNS envelope around garbage", JSON.stringify(snsEnvelope("garbage"))],
    ]) {
      it(`rejects ${name} as a bad record naming the message`, () => {
        expect(() => refsFromMessage(body, "SQS message m-1", log)).to.throw(BadRecordError, /SQS message m-1/);
      });
    }
  });

  describe("adapters", () => {
    it("SQS: one record per message, identified by its message id, failing lazily", async () => {
      const records = sqsRecords(sqsEvent(sqsMessage("m-1", s3Notification(s3Record("logs", KEY))), sqsMessage("m-2", "not json")) as never, sourceContext());
      expect(records.map((r) => r.itemIdentifier)).to.deep.equal(["m-1", "m-2"]);
      expect(records.map((r) => r.describe)).to.deep.equal(["SQS message m-1", "SQS message m-2"]);
      const err = await failure(drain(records[1]));
      expect(err).to.be.instanceOf(BadRecordError);
      expect(err.message).to.contain("SQS message m-2");
    });

    it("SQS: a test event message succeeds with nothing to ship", async () => {
      const [record] = sqsRecords(sqsEvent(sqsMessage("m-1", S3_TEST_EVENT)) as never, sourceContext());
      expect(await drain(record)).to.deep.equal([]);
    });

    it("SNS: one record per SNS record, without item identifier", async () => {
      const records = snsRecords(snsEvent({ message: S3_TEST_EVENT, id: "n-1" }, { message: "garbage", id: "n-2" }) as never, sourceContext());
      expect(records.map((r) => [r.describe, r.itemIdentifier])).to.deep.equal([["SNS message n-1", undefined], ["SNS message n-2", undefined]]);
      expect(await drain(records[0])).to.deep.equal([]);
      expect((await failure(drain(records[1]))).message).to.contain("SNS message n-2");
    });

    it("EventBridge: other events fail clearly", async () => {
      const [record] = eventBridgeRecords(eventBridgeEvent("logs", KEY, { source: "aws.ec2", "detail-type": "EC2 Instance State-change Notification" }) as never, sourceContext());
      const err = await failure(drain(record));
      expect(err).to.be.instanceOf(BadRecordError);
      expect(err.message).to.match(/"aws\.ec2".*"EC2 Instance State-change Notification".*only "Object Created" events from "aws\.s3"/);
      expect(() => refFromEventBridge(eventBridgeEvent("logs", KEY, { "detail-type": "Object Deleted" }), "e")).to.throw(BadRecordError);
    });
  });
});
