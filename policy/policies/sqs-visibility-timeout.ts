/**
 * AWS's guidance for Lambda-consumed queues: a visibility timeout of at least six times the
 * function timeout, so a message whose invocation is retried or throttled is not received by a
 * second invocation while the first still works on it (duplicate pushes, early dead-lettering).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { functionRef } from "../lib/messages";
import { configOf } from "../lib/policy-config";
import { DEFAULT_VISIBILITY_TIMEOUT_SECONDS } from "../lib/queues";
import { SHIPPER_ONLY } from "../lib/environment";
import { validateEachShipper } from "../lib/validation";
import { isUnknown, readNumber } from "../lib/unknowns";

export interface VisibilityTimeoutConfig {
  factor: number;
}

const DEFAULTS: VisibilityTimeoutConfig = { factor: 6 };
/** Lambda's default function timeout. */
const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 3;

export const sqsVisibilityTimeout: StackValidationPolicy = {
  name: "sqs-visibility-timeout",
  description: "SQS queues that feed the shipper should have a visibility timeout of at least six times the function timeout.",
  enforcementLevel: "advisory",
  severity: "medium",
  configSchema: {
    properties: {
      factor: { type: "number", minimum: 1, default: DEFAULTS.factor, description: "Required ratio of the queue's visibility timeout to the function timeout." },
    },
  },
  validateStack: validateEachShipper(SHIPPER_ONLY, (shipper, stack, args, report) => {
    const { factor } = configOf(args, DEFAULTS);
    const timeout = readNumber(shipper.resource.props, ["timeout"]);
    if (isUnknown(timeout)) return;
    const functionTimeout = timeout ?? DEFAULT_FUNCTION_TIMEOUT_SECONDS;
    for (const mapping of stack.mappingsOf(shipper)) {
      if (mapping.kind !== "sqs" || !mapping.queue) continue;
      const visibility = readNumber(mapping.queue.props, ["visibilityTimeoutSeconds"]);
      if (isUnknown(visibility)) continue;
      const seconds = visibility ?? DEFAULT_VISIBILITY_TIMEOUT_SECONDS;
      if (seconds >= factor * functionTimeout) continue;
      report(
        `SQS queue "${mapping.queue.name}" feeding ${functionRef(shipper.name)} has a visibility timeout of ${seconds} s${visibility === undefined ? " (the default)" : ""}, ` +
          `less than ${factor} times the function timeout (${functionTimeout} s): a message still being processed by a retried or throttled invocation becomes visible again, ` +
          `is shipped twice and counts towards its receive limit early. Fix: set visibilityTimeoutSeconds to at least ${Math.ceil(factor * functionTimeout)}.`,
        mapping.queue.urn,
      );
    }
  }),
};
