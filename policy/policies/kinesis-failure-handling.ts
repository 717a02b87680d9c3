/**
 * A Kinesis mapping needs a way past a record the shipper cannot process: bisecting the batch
 * isolates it (so the rest of the batch is shipped) and an on-failure destination keeps its
 * metadata once retries are exhausted. Without them one bad record blocks its shard for up to
 * the stream's retention, or is dropped without trace.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { functionRef } from "../lib/messages";
import { SHIPPER_ONLY } from "../lib/environment";
import { validateEachShipper } from "../lib/validation";
import { isUnknown, readPath } from "../lib/unknowns";

export const kinesisFailureHandling: StackValidationPolicy = {
  name: "kinesis-failure-handling",
  description: "Kinesis event source mappings of the shipper must bisect failing batches and send records that still fail to an on-failure destination.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: validateEachShipper(SHIPPER_ONLY, (shipper, stack, _args, report) => {
    for (const mapping of stack.mappingsOf(shipper)) {
      if (mapping.kind !== "kinesis") continue;
      const props = mapping.resource.props;
      const bisect = readPath(props, ["bisectBatchOnFunctionError"]);
      const destination = readPath(props, ["destinationConfig", "onFailure", "destinationArn"]);
      // Unknown at preview means set (to a computed value).
      const missing = [
        !isUnknown(bisect) && bisect !== true ? "bisectBatchOnFunctionError: true (a failing batch is split until the bad record is alone, so the others are shipped)" : "",
        !isUnknown(destination) && (typeof destination !== "string" || destination === "")
          ? "destinationConfig.onFailure.destinationArn (an SQS queue or SNS topic that keeps the failed records' positions once retries are exhausted)"
          : "",
      ].filter(Boolean);
      if (missing.length === 0) continue;
      report(
        `Kinesis event source mapping "${mapping.resource.name}" of ${functionRef(shipper.name)} lacks ${missing.join(" and ")}: ` +
          `a record the shipper cannot process blocks its shard until it expires from the stream, or is dropped without trace after the retries. ` +
          `Fix: set ${missing.map((m) => m.split(" (")[0]).join(" and ")} on the mapping, with a bounded maximumRetryAttempts.`,
        mapping.resource.urn,
      );
    }
  }),
};
