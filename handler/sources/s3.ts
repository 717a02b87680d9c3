/**
 * S3 event notification -> Lambda (asynchronous invocation). One record per object: there is
 * no partial-failure protocol, so a failing object fails the invocation and Lambda retries it;
 * objects already shipped are deduplicated by Loki because their entries are identical.
 * The test event S3 sends when the notification is configured yields no records.
 */
import type { S3Event, S3EventRecord } from "aws-lambda";
import type { SourceRecord } from "../types";
import type { SourceAdapter } from "./context";
import { readOptions, refsGroups } from "./s3-log-object";
import { displayKey, isS3TestEvent, refsFromS3Notification } from "./s3-notification";

export const s3Records: SourceAdapter<S3Event> = (event, ctx) => {
  if (isS3TestEvent(event) || !Array.isArray(event.Records)) return [];
  return event.Records.map((record, i): SourceRecord => ({
    describe: describeS3Record(record),
    // Parsed lazily: a malformed record fails alone, when it is read.
    groups: () => refsGroups(() => refsFromS3Notification({ Records: [record] }, `S3 event record ${i}`, ctx.log), readOptions(ctx)),
  }));
};

function describeS3Record(record: S3EventRecord): string {
  const bucket = record?.s3?.bucket?.name ?? "?";
  const key = typeof record?.s3?.object?.key === "string" ? displayKey(record.s3.object.key) : "?";
  return `s3://${bucket}/${key}`;
}
