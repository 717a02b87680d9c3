/**
 * CloudWatch Logs subscription filter -> Lambda. One invocation carries one log group's
 * events; it is one record (async invocation: on failure the whole event is retried).
 */
import type { CloudWatchLogsEvent } from "aws-lambda";
import { BadRecordError, SourceRecord } from "../types";
import { decodeText } from "../parsers/text";
import type { SourceAdapter } from "./context";
import { cloudWatchGroup, decodeBase64, gunzip, parseCloudWatchLogsData, withTagLabels } from "./cloudwatch-payload";

export const cloudWatchRecords: SourceAdapter<CloudWatchLogsEvent> = (event, ctx) => {
  const record: SourceRecord = {
    describe: "cloudwatch subscription event",
    async *groups() {
      const what = "awslogs.data";
      let data = parseCloudWatchLogsData(decodeText(gunzip(decodeBase64(event.awslogs.data, what), what, ctx.config.maxDecompressedSize)), what);
      if (!data) throw new BadRecordError(`${what} is JSON but not a CloudWatch Logs subscription payload (no messageType)`);
      // CloudWatch sends a CONTROL_MESSAGE to check the destination is reachable: nothing to ship.
      if (data.messageType === "CONTROL_MESSAGE") return;
      const group = cloudWatchGroup(data, {
        sourceLabels: { __aws_log_type: "cloudwatch" },
        keepStream: ctx.config.keepStream,
        wantEventId: ctx.config.structuredMetadata.includes("cloudwatch_event_id"),
        what,
      });
      // A subscription filter delivers to a function in the log group's own region.
      const tagged = withTagLabels(group, data, process.env.AWS_REGION ?? "", ctx);
      // The parsed events (objects, ids, times) are not needed once the entries exist; held by this
      // generator while the entries are shipped, they were copied by every garbage collection.
      data = undefined;
      yield tagged;
    },
  };
  return [record];
};
