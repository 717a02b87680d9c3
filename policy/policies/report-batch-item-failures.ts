/**
 * The shipper answers SQS and Kinesis batches with `batchItemFailures` (the records it could not
 * ship) instead of failing the invocation. Without ReportBatchItemFailures on the mapping,
 * Lambda ignores that answer and treats the batch as done: failed records are deleted or
 * skipped, and their logs are lost.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { functionRef } from "../lib/messages";
import { SHIPPER_ONLY } from "../lib/environment";
import { validateEachShipper } from "../lib/validation";
import { isUnknown, readArray } from "../lib/unknowns";

export const reportBatchItemFailures: StackValidationPolicy = {
  name: "report-batch-item-failures",
  description: "Kinesis and SQS event source mappings of the shipper must enable ReportBatchItemFailures, or failed records are lost.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: validateEachShipper(SHIPPER_ONLY, (shipper, stack, _args, report) => {
    for (const mapping of stack.mappingsOf(shipper)) {
      if (mapping.kind === "other") continue;
      const types = readArray(mapping.resource.props, ["functionResponseTypes"]);
      if (isUnknown(types) || types.includes("ReportBatchItemFailures")) continue;
      report(
        `Event source mapping "${mapping.resource.name}" (${mapping.kind === "sqs" ? "SQS" : "Kinesis"}) of ${functionRef(shipper.name)} does not set ` +
          `functionResponseTypes: ["ReportBatchItemFailures"]: the shipper reports the records it could not push in batchItemFailures, which Lambda then ignores, ` +
          `so ${mapping.kind === "sqs" ? "failed messages are deleted" : "the stream moves past failed records"} and their logs are lost. ` +
          `Fix: add functionResponseTypes: ["ReportBatchItemFailures"] to the mapping.`,
        mapping.resource.urn,
      );
    }
  }),
};
