/**
 * S3 source, EventBridge delivery: buckets send their events to EventBridge (leaving their
 * notification configuration free of Lambda/SQS targets), one rule matches Object Created on
 * the configured buckets and keys and invokes the function.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DeployContext, json, tagsOf } from "./context";
import { AUTONAME_LIMIT, fitLogicalName, slug } from "./names";
import { eventsToQueuePolicy } from "./policies";
import { BucketSource } from "./settings";

/** EventBridge retries delivery to Lambda (the invocation itself is retried by the async invoke config). */
export const EVENTBRIDGE_RETRY = { maximumEventAgeInSeconds: 6 * 3600, maximumRetryAttempts: 20 };

/** Escapes `*` and `\` for an EventBridge wildcard pattern. */
const wildcardEscape = (s: string): string => s.replace(/[\\*]/g, (c) => `\\${c}`);

/** The key matcher of a bucket's prefix and suffix filters, or undefined for every key. */
export function keyMatcher(bucket: Pick<BucketSource, "prefix" | "suffix">): object[] | undefined {
  if (bucket.prefix && bucket.suffix) return [{ wildcard: `${wildcardEscape(bucket.prefix)}*${wildcardEscape(bucket.suffix)}` }];
  if (bucket.prefix) return [{ prefix: bucket.prefix }];
  if (bucket.suffix) return [{ suffix: bucket.suffix }];
  return undefined;
}

/**
 * The rule's event pattern: Object Created from the configured buckets, under their key
 * filters. Buckets sharing filters share one clause; different filters are alternatives ($or).
 */
export function objectCreatedPattern(buckets: BucketSource[]): Record<string, unknown> {
  const byFilter = new Map<string, { matcher: object[] | undefined; names: string[] }>();
  for (const bucket of buckets) {
    const matcher = keyMatcher(bucket);
    const k = JSON.stringify(matcher ?? null);
    const entry = byFilter.get(k) ?? { matcher, names: [] };
    entry.names.push(bucket.name);
    byFilter.set(k, entry);
  }
  const clauses = [...byFilter.values()].map(({ matcher, names }) => ({ bucket: { name: names }, ...(matcher ? { object: { key: matcher } } : {}) }));
  return { source: ["aws.s3"], "detail-type": ["Object Created"], detail: clauses.length === 1 ? clauses[0] : { $or: clauses } };
}

export interface EventBridgeDelivery {
  notifications: aws.s3.BucketNotification[];
  rule: aws.cloudwatch.EventRule;
  target: aws.cloudwatch.EventTarget;
  permission: aws.lambda.Permission;
  deadLetterPolicy: aws.sqs.QueuePolicy;
}

export function declareEventBridgeBuckets(ctx: DeployContext, fn: aws.lambda.Function, buckets: BucketSource[], deadLetter: aws.sqs.Queue): EventBridgeDelivery {
  const opts = { parent: ctx.parent };
  const notifications = buckets.map((bucket) => new aws.s3.BucketNotification(`${ctx.name}-s3-${slug(bucket.name)}`, { bucket: bucket.name, eventbridge: true }, opts));
  const rule = new aws.cloudwatch.EventRule(
    `${ctx.name}-s3-object-created`,
    { description: `S3 Object Created on the buckets shipped by ${ctx.name}`, eventPattern: json(objectCreatedPattern(buckets)), ...tagsOf(ctx) },
    opts,
  );
  const permission = new aws.lambda.Permission(
    fitLogicalName(`${ctx.name}-s3-object-created-allow`, AUTONAME_LIMIT.statementId),
    { action: "lambda:InvokeFunction", function: fn.name, principal: "events.amazonaws.com", sourceArn: rule.arn },
    opts,
  );
  // Events EventBridge cannot deliver land in the dead-letter queue, which must let the rule send.
  const deadLetterPolicy = new aws.sqs.QueuePolicy(
    `${ctx.name}-dead-letter-policy`,
    { queueUrl: deadLetter.url, policy: pulumi.all([deadLetter.arn, rule.arn]).apply(([queueArn, ruleArn]) => json(eventsToQueuePolicy(queueArn, [ruleArn]))) },
    opts,
  );
  const target = new aws.cloudwatch.EventTarget(
    `${ctx.name}-s3-object-created`,
    { rule: rule.name, arn: fn.arn, retryPolicy: EVENTBRIDGE_RETRY, deadLetterConfig: { arn: deadLetter.arn } },
    { ...opts, dependsOn: [permission, deadLetterPolicy] },
  );
  return { notifications, rule, target, permission, deadLetterPolicy };
}
