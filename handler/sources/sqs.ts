/**
 * SQS -> Lambda. Each message is one record reported by its message id in
 * `batchItemFailures`, so only failing messages are received again and, after the queue's
 * maxReceiveCount, moved to its dead-letter queue. A body is an S3 event notification, an SNS
 * envelope around one, or an EventBridge "Object Created" event; anything else fails its
 * message with a BadRecordError naming it.
 */
import type { SQSEvent } from "aws-lambda";
import type { SourceRecord } from "../types";
import type { SourceAdapter } from "./context";
import { readOptions, refsGroups } from "./s3-log-object";
import { refsFromMessage } from "./s3-notification";

export const sqsRecords: SourceAdapter<SQSEvent> = (event, ctx) =>
  event.Records.map((message): SourceRecord => {
    const what = `SQS message ${message.messageId}`;
    return {
      itemIdentifier: message.messageId,
      describe: what,
      groups: () => refsGroups(() => refsFromMessage(message.body, what, ctx.log), readOptions(ctx)),
    };
  });
