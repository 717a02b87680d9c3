/** SQS queue facts the delivery policies need, unknown-aware. */
import type { PolicyResource } from "@pulumi/policy";
import { TYPES } from "./resource-types";
import { StackModel } from "./stack-model";
import { isUnknown, readPath, readString } from "./unknowns";

/** SQS's default visibility timeout when the queue does not set one. */
export const DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30;

/**
 * Whether the queue sends poison messages to a dead-letter queue: a redrive policy on the queue
 * (an unknown one at preview counts: it is computed from the dead-letter queue's ARN), or an
 * `aws:sqs/redrivePolicy:RedrivePolicy` resource attached to it.
 */
export function hasDeadLetterQueue(queue: PolicyResource, stack: StackModel): boolean {
  const redrive = readPath(queue.props, ["redrivePolicy"]);
  if (isUnknown(redrive) || redrivesTo(redrive)) return true;
  const url = readString(queue.props, ["url"]);
  const ids = [url, readString(queue.props, ["id"])].filter((v): v is string => typeof v === "string" && v !== "");
  return stack.resourcesReferring(TYPES.redrivePolicy, "queueUrl", queue, ids).some((r) => {
    const policy = readPath(r.props, ["redrivePolicy"]);
    return isUnknown(policy) || redrivesTo(policy);
  });
}

/** A redrive policy (JSON string or object) naming a dead-letter target. */
function redrivesTo(policy: unknown): boolean {
  const target = parseRedrivePolicy(policy)?.deadLetterTargetArn;
  return typeof target === "string" ? target !== "" : target !== undefined && target !== null;
}

/** The dead-letter target ARN a redrive policy names, when known. */
export function redriveTargetArn(policy: unknown): string | undefined {
  const arn = parseRedrivePolicy(policy)?.deadLetterTargetArn;
  return typeof arn === "string" && arn !== "" ? arn : undefined;
}

/** A redrive policy as SQS and the provider take it: a JSON string or an object. */
function parseRedrivePolicy(policy: unknown): Record<string, unknown> | undefined {
  let parsed: unknown = policy;
  if (typeof policy === "string") {
    if (policy.trim() === "") return undefined;
    try {
      parsed = JSON.parse(policy);
    } catch {
      return undefined;
    }
  }
  return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
}
