/**
 * An SQS queue feeding the shipper must have a dead-letter queue: a message the function can
 * never process (a deleted object, an unsupported key) is otherwise received again until the
 * queue's retention expires, then lost without trace.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { functionRef } from "../lib/messages";
import { hasDeadLetterQueue } from "../lib/queues";
import { SHIPPER_ONLY } from "../lib/environment";
import { validateEachShipper } from "../lib/validation";

export const sqsDeadLetterQueue: StackValidationPolicy = {
  name: "sqs-dead-letter-queue",
  description: "SQS queues that feed the shipper must redrive failing messages to a dead-letter queue.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: validateEachShipper(SHIPPER_ONLY, (shipper, stack, _args, report) => {
    for (const mapping of stack.mappingsOf(shipper)) {
      // A queue outside the stack cannot be inspected: not reported.
      if (mapping.kind !== "sqs" || !mapping.queue || hasDeadLetterQueue(mapping.queue, stack)) continue;
      report(
        `SQS queue "${mapping.queue.name}" feeds ${functionRef(shipper.name)} (event source mapping "${mapping.resource.name}") without a dead-letter queue: ` +
          `a message the function cannot process (a deleted object, an unsupported key) is received again and again until the queue's retention expires, then lost without trace. ` +
          `Fix: give the queue a redrive policy, e.g. redrivePolicy: {"deadLetterTargetArn": <dead-letter queue ARN>, "maxReceiveCount": 5} ` +
          `(the lambda-promtail program does this with bucketDelivery: sqs).`,
        mapping.queue.urn,
      );
    }
  }),
};
