/**
 * Where a shipper's undeliverable records end up: the SQS queues of the stack that receive what
 * the shipper (or the services invoking it) gave up on, and the CloudWatch alarms watching them.
 *
 * A dead-letter queue of the shipper is any SQS queue declared in the stack that is
 *  - the redrive target of a queue feeding it (S3 notifications through SQS),
 *  - the on-failure destination of its asynchronous invocations (FunctionEventInvokeConfig),
 *  - its own dead-letter config (`deadLetterConfig.targetArn`),
 *  - the on-failure destination of a Kinesis event source mapping of it,
 *  - the dead-letter config of an EventBridge target invoking it.
 * A reference is recognised by the engine's property dependencies, else by the queue's ARN.
 */
import type { PolicyResource } from "@pulumi/policy";
import { redriveTargetArn } from "./queues";
import { TYPES } from "./resource-types";
import { dependencies, knownString, Shipper, StackModel } from "./stack-model";
import { isUnknown, readPath, readString } from "./unknowns";

export interface DeadLetterQueue {
  queue: PolicyResource;
  /** How it receives the shipper's failures, for messages. */
  roles: string[];
}

export function deadLetterQueuesOf(shipper: Shipper, stack: StackModel): DeadLetterQueue[] {
  const found = new Map<string, DeadLetterQueue>();
  const add = (queue: PolicyResource | undefined, role: string) => {
    if (!queue) return;
    const entry = found.get(queue.urn) ?? { queue, roles: [] };
    if (!entry.roles.includes(role)) entry.roles.push(role);
    found.set(queue.urn, entry);
  };
  const fn = shipper.resource;
  add(queueAt(fn, "deadLetterConfig", ["deadLetterConfig", "targetArn"], stack), "the function's dead-letter queue");
  for (const mapping of stack.mappingsOf(shipper)) {
    if (mapping.kind === "sqs" && mapping.queue) add(redriveTarget(mapping.queue, stack), `the dead-letter queue of SQS queue "${mapping.queue.name}"`);
    if (mapping.kind === "kinesis") add(queueAt(mapping.resource, "destinationConfig", ["destinationConfig", "onFailure", "destinationArn"], stack), `the on-failure destination of Kinesis mapping "${mapping.resource.name}"`);
  }
  for (const config of stack.ofType(TYPES.functionEventInvokeConfig)) {
    if (!stack.refersToShipper(config, "functionName", shipper)) continue;
    add(queueAt(config, "destinationConfig", ["destinationConfig", "onFailure", "destination"], stack), "the on-failure destination of its asynchronous invocations");
  }
  for (const target of stack.ofType(TYPES.eventTarget)) {
    if (!stack.refersToShipper(target, "arn", shipper)) continue;
    add(queueAt(target, "deadLetterConfig", ["deadLetterConfig", "arn"], stack), `the dead-letter queue of EventBridge target "${target.name}"`);
  }
  return [...found.values()];
}

/** The queue of the stack a resource's ARN property points at (through `property`'s dependencies, else by ARN). */
function queueAt(r: PolicyResource, property: string, path: readonly string[], stack: StackModel): PolicyResource | undefined {
  const arn = readString(r.props, path);
  if (!isUnknown(arn) && (arn === undefined || arn === "")) return undefined;
  const queues = dependencies(r, property).filter((d) => d.type === TYPES.queue);
  if (queues.length === 1) return queues[0];
  if (isUnknown(arn)) return undefined;
  return stack.ofType(TYPES.queue).find((q) => knownString(readString(q.props, ["arn"])) === arn);
}

/** The dead-letter queue a queue redrives to (its redrive policy or an attached RedrivePolicy resource), when in the stack. */
export function redriveTarget(queue: PolicyResource, stack: StackModel): PolicyResource | undefined {
  const url = knownString(readString(queue.props, ["url"]));
  const attached = stack.ofType(TYPES.redrivePolicy).filter((r) => dependencies(r, "queueUrl").some((d) => d.urn === queue.urn) || (url !== undefined && readString(r.props, ["queueUrl"]) === url));
  const policies = [queue, ...attached];
  for (const r of policies) {
    const byDependency = dependencies(r, "redrivePolicy").find((d) => d.type === TYPES.queue && d.urn !== queue.urn);
    if (byDependency) return byDependency;
    const target = redriveTargetArn(readPath(r.props, ["redrivePolicy"]));
    const dlq = target && stack.ofType(TYPES.queue).find((q) => knownString(readString(q.props, ["arn"])) === target);
    if (dlq) return dlq;
  }
  return undefined;
}

/** The SQS metric that counts the messages waiting in a queue. */
export const VISIBLE_MESSAGES = { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible" } as const;

/**
 * CloudWatch alarms of the stack on the queue's ApproximateNumberOfMessagesVisible (AWS/SQS,
 * dimension QueueName), as a plain metric alarm or as a metric of a metric-math alarm. A
 * QueueName unknown at preview counts when it comes from the queue (its dependency) or when
 * nothing tells otherwise.
 */
export function alarmsOn(queue: PolicyResource, stack: StackModel): PolicyResource[] {
  const name = knownString(readString(queue.props, ["name"]));
  return stack.ofType(TYPES.metricAlarm).filter((alarm) => {
    const metrics = [alarm.props as unknown, ...arrayAt(alarm.props, ["metricQueries"]).map((q) => readPath(q, ["metric"]))];
    return metrics.some((metric) => {
      if (readString(metric, ["namespace"]) !== VISIBLE_MESSAGES.namespace || readString(metric, ["metricName"]) !== VISIBLE_MESSAGES.metricName) return false;
      const queueName = readString(metric, ["dimensions", "QueueName"]);
      if (dependencies(alarm, metric === alarm.props ? "dimensions" : "metricQueries").some((d) => d.urn === queue.urn)) return true;
      if (isUnknown(queueName)) return true;
      return queueName !== undefined && queueName === name;
    });
  });
}

function arrayAt(props: unknown, path: readonly string[]): unknown[] {
  const value = readPath(props, path);
  return Array.isArray(value) ? value : [];
}
