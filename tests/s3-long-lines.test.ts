/**
 * MAX_LINE_SIZE_ACTION=split on a 300 MB S3 object without a newline, through the real handler,
 * the local S3 server and a Loki receiver that checks each push as it arrives instead of keeping
 * 300 MB of lines. The reader hands the line out in pieces as it reads it; that it does so in
 * bounded memory is measured by the benchmark (bench/memory.ts), not asserted here.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { handler } from "../handler/index";
import { DEFAULT_MAX_LINE_SIZE } from "../handler/line-size";
import { captureFunctionLogs } from "./support/function-logs";
import { useHandlerWithLoki } from "./support/handler-harness";
import type { ReceivedPush } from "./support/loki-receiver";
import { newlineFreeObject } from "./support/large-events";
import { s3Notification, s3Record } from "./support/s3-events";

const BUCKET = "long-lines";
const KEY = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/06/01/123456789012_elasticloadbalancing_us-east-1_app.newline-free.50dc6c495c0c9188_20240601T1200Z_10.0.0.1_2et2e1mx.log.gz";
describe("MAX_LINE_SIZE_ACTION=split: a 300 MB S3 object without a newline (handler + s3rver + Loki receiver)", function () {
  this.timeout(300_000);
  // Checked push by push: a 300 MB line is not kept in the test process.
  const hash = createHash("sha256");
  let pieces = 0;
  let bytes = 0;
  let longest = 0;
  const stamps = new Set<string>();
  const harness = useHandlerWithLoki({ s3: { buckets: [BUCKET] }, loki: {
    keepReceived: false,
    onPush: (push: ReceivedPush) => {
      for (const stream of push.streams) {
        for (const entry of stream.entries) {
          const piece = Buffer.from(entry.line, "utf8");
          hash.update(piece);
          pieces++;
          bytes += piece.length;
          longest = Math.max(longest, piece.length);
          stamps.add(`${entry.sec}.${entry.nsec}`);
        }
      }
    },
  } });
  let object: { gz: Buffer; sha256: string; bytes: number };

  before(async () => {
    object = await newlineFreeObject(300 * 1024 * 1024);
    await harness.s3.put(BUCKET, KEY, object.gz);
  });

  it("ships the whole line as consecutive pieces of at most MAX_LINE_SIZE bytes, cut between characters, in order, with one timestamp", async () => {
    // One push at a time, so that the pieces arrive in the order they were cut.
    harness.configure({ LOG_LEVEL: "info", MAX_LINE_SIZE_ACTION: "split", PUSH_CONCURRENCY: "1" });
    const logs = captureFunctionLogs();
    try {
      // A Lambda's longest timeout: a loaded machine reads 300 MB in more than the 60 s the
      // handler assumes without a context.
      const end = Date.now() + 280_000;
      expect(await handler(s3Notification(s3Record(BUCKET, KEY)), { getRemainingTimeInMillis: () => end - Date.now() })).to.equal(undefined);
    } finally {
      logs.restore();
    }
    expect(bytes).to.equal(object.bytes);
    // Whole characters only: re-encoding each piece's text gave back the object's bytes.
    expect(hash.digest("hex")).to.equal(object.sha256);
    expect(longest).to.be.at.most(DEFAULT_MAX_LINE_SIZE);
    // Every piece but the last is within 3 bytes of the limit (a 4-byte character that did not fit).
    expect(pieces).to.be.within(Math.ceil(object.bytes / DEFAULT_MAX_LINE_SIZE), Math.ceil(object.bytes / (DEFAULT_MAX_LINE_SIZE - 3)));
    // No time in the line: every piece has the event's time.
    expect([...stamps]).to.have.lengthOf(1);
    expect(logs.withMessage("invocation summary")[0]).to.include({ failedRecords: 0, splitLines: 1, truncatedLines: 0, entries: pieces });
  });
});
