/**
 * SNS -> Lambda (asynchronous invocation). One record per SNS record; its message is an S3
 * event notification (or an EventBridge "Object Created" event forwarded to the topic).
 */
import type { SNSEvent } from "aws-lambda";
import type { SourceRecord } from "../types";
import type { SourceAdapter } from "./context";
import { readOptions, refsGroups } from "./s3-log-object";
import { refsFromMessage } from "./s3-notification";

export const snsRecords: SourceAdapter<SNSEvent> = (event, ctx) =>
  event.Records.map((record): SourceRecord => {
    const what = `SNS message ${record.Sns?.MessageId ?? "?"}`;
    return {
      describe: what,
      groups: () => refsGroups(() => refsFromMessage(record.Sns?.Message ?? "", what, ctx.log), readOptions(ctx)),
    };
  });
