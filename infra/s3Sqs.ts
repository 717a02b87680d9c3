/**
 * S3 source, SQS delivery: buckets notify an encrypted queue; an event source mapping feeds the
 * function and reports per-message failures; poison messages move to the dead-letter queue.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DeployContext, json, tagsOf } from "./context";
import { slug } from "./names";
import { s3ToQueuePolicy } from "./policies";
import { configuredBucketArn, keyFilters, OBJECT_CREATED } from "./s3Direct";
import { BucketSource, ShipperStackSettings } from "./settings";

/** AWS's advice for Lambda-consumed queues: visibility timeout at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Messages wait at most four days (SQS's default); the dead-letter queue keeps them longer. */
export const S3_QUEUE_RETENTION_SECONDS = 4 * 24 * 3600;

export interface S3Queue {
  queue: aws.sqs.Queue;
  redriveAllow: aws.sqs.RedriveAllowPolicy;
}

/** The queue and its dead-letter link; declared before the function so the role can be granted on it. */
export function declareS3Queue(ctx: DeployContext, settings: ShipperStackSettings, deadLetter: aws.sqs.Queue): S3Queue {
  const opts = { parent: ctx.parent };
  const queue = new aws.sqs.Queue(
    `${ctx.name}-s3-events`,
    {
      visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_FACTOR * settings.timeout,
      messageRetentionSeconds: S3_QUEUE_RETENTION_SECONDS,
      sqsManagedSseEnabled: true,
      redrivePolicy: deadLetter.arn.apply((arn) => json({ deadLetterTargetArn: arn, maxReceiveCount: settings.sqs.maxReceiveCount })),
      ...tagsOf(ctx),
    },
    opts,
  );
  // Only this queue may use the dead-letter queue as its dead-letter queue.
  const redriveAllow = new aws.sqs.RedriveAllowPolicy(
    `${ctx.name}-dead-letter-redrive-allow`,
    { queueUrl: deadLetter.url, redriveAllowPolicy: queue.arn.apply((arn) => json({ redrivePermission: "byQueue", sourceQueueArns: [arn] })) },
    opts,
  );
  return { queue, redriveAllow };
}

export interface S3QueueWiring {
  queuePolicy: aws.sqs.QueuePolicy;
  notifications: aws.s3.BucketNotification[];
  mapping: aws.lambda.EventSourceMapping;
}

export function wireS3Queue(ctx: DeployContext, settings: ShipperStackSettings, s3Queue: S3Queue, fn: aws.lambda.Function, buckets: BucketSource[]): S3QueueWiring {
  const opts = { parent: ctx.parent };
  const { queue } = s3Queue;
  const queuePolicy = new aws.sqs.QueuePolicy(
    `${ctx.name}-s3-events-policy`,
    {
      queueUrl: queue.url,
      policy: pulumi
        .all([queue.arn, pulumi.all(buckets.map((b) => configuredBucketArn(ctx, b))), ctx.target.accountId])
        .apply(([queueArn, bucketArns, account]) => json(s3ToQueuePolicy(queueArn, bucketArns, account))),
    },
    opts,
  );
  const notifications = buckets.map(
    (bucket) =>
      new aws.s3.BucketNotification(
        `${ctx.name}-s3-${slug(bucket.name)}`,
        { bucket: bucket.name, queues: [{ queueArn: queue.arn, events: OBJECT_CREATED, ...keyFilters(bucket) }] },
        // S3 sends a test message when the notification is put: the queue must accept it.
        { ...opts, dependsOn: [queuePolicy] },
      ),
  );
  const mapping = new aws.lambda.EventSourceMapping(
    `${ctx.name}-s3-events`,
    {
      eventSourceArn: queue.arn,
      functionName: fn.arn,
      batchSize: settings.sqs.batchSize,
      functionResponseTypes: ["ReportBatchItemFailures"],
      ...tagsOf(ctx),
    },
    opts,
  );
  return { queuePolicy, notifications, mapping };
}
