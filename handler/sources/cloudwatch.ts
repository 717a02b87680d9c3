/**
 * CloudWatch Logs subscription filter -> Lambda. One invocation carries one log group's
 * events; it is one record (async invocation: on failure the whole event is retried).
 */
import type { CloudWatchLogsEvent } from "aws-lambda";
import { BadRecordError, SourceRecord } from "../types";
import type { SourceAdapter } from "./context";
import { cloudWatchPayloadGroup, decodeBase64, inflate, withTagLabels } from "./cloudwatch-payload";

export const cloudWatchRecords: SourceAdapter<CloudWatchLogsEvent> = (event, ctx) => {
  const record: SourceRecord = {
    describe: "cloudwatch subscription event",
    async *groups() {
      const what = "awslogs.data";
      const read = cloudWatchPayloadGroup(inflate(decodeBase64(event.awslogs.data, what), what, ctx.config.maxDecompressedSize), {
        sourceLabels: { __aws_log_type: "cloudwatch" },
        keepStream: ctx.config.keepStream,
        wantEventId: ctx.config.structuredMetadata.includes("cloudwatch_event_id"),
        what,
      });
      if (!read) throw new BadRecordError(`${what} is JSON but not a CloudWatch Logs subscription payload (no messageType)`);
      if (read.control) return;
      // A subscription filter delivers to a function in the log group's own region.
      yield withTagLabels(read.group, read, process.env.AWS_REGION ?? "", ctx);
    },
  };
  return [record];
};
