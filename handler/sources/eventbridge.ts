/**
 * EventBridge -> Lambda (asynchronous invocation): an `aws.s3` "Object Created" event is one
 * record reading that object. Any other event fails with a BadRecordError saying which events
 * are supported, so a too-broad rule is noticed instead of silently doing nothing.
 */
import type { EventBridgeEvent } from "aws-lambda";
import type { SourceRecord } from "../types";
import type { SourceAdapter } from "./context";
import { readOptions, refsGroups } from "./s3-log-object";
import { refFromEventBridge } from "./s3-notification";

export const eventBridgeRecords: SourceAdapter<EventBridgeEvent<string, unknown>> = (event, ctx) => {
  const what = `EventBridge event ${event.id ?? "?"}`;
  const record: SourceRecord = {
    describe: what,
    groups: () => refsGroups(() => [refFromEventBridge(event, what)], readOptions(ctx)),
  };
  return [record];
};
