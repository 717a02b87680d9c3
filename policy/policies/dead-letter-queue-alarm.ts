/**
 * A dead-letter queue nobody watches: records the shipper gave up on (logs never delivered)
 * pile up there silently until the queue's retention deletes them. An alarm on the queue's
 * ApproximateNumberOfMessagesVisible tells the operator the day it happens (the lambda-promtail
 * program declares one with the stack config `alarms`).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { alarmsOn, deadLetterQueuesOf, VISIBLE_MESSAGES } from "../lib/dead-letters";
import { SHIPPER_ONLY } from "../lib/environment";
import { functionRef } from "../lib/messages";
import { knownString } from "../lib/stack-model";
import { readString } from "../lib/unknowns";
import { validateEachShipper } from "../lib/validation";

export const deadLetterQueueAlarm: StackValidationPolicy = {
  name: "dead-letter-queue-alarm",
  description: "A dead-letter queue of the shipper (or the on-failure destination of its asynchronous invocations) should have a CloudWatch alarm on its visible messages.",
  enforcementLevel: "advisory",
  severity: "medium",
  validateStack: validateEachShipper(SHIPPER_ONLY, (shipper, stack, _args, report) => {
    for (const { queue, roles } of deadLetterQueuesOf(shipper, stack)) {
      if (alarmsOn(queue, stack).length > 0) continue;
      const name = knownString(readString(queue.props, ["name"])) ?? "<queue name>";
      report(
        `SQS queue "${queue.name}" is ${roles.join(" and ")} of ${functionRef(shipper.name)}, and no CloudWatch alarm watches it: records the shipper gave up on ` +
          `(logs never delivered to Loki) would wait there unnoticed until the queue's retention deletes them. ` +
          `Fix: add an aws.cloudwatch.MetricAlarm on ${VISIBLE_MESSAGES.metricName} (namespace ${VISIBLE_MESSAGES.namespace}, dimensions {QueueName: "${name}"}, statistic Maximum, ` +
          `threshold 1, GreaterThanOrEqualToThreshold, treatMissingData "ignore": SQS stops publishing an idle queue's metrics even while it holds messages) notifying your on-call topic; the lambda-promtail program declares it with \`pulumi config set --path alarms.topicArn <SNS topic ARN>\`.`,
        queue.urn,
      );
    }
  }),
};
