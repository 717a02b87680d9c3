import * as aws from "@pulumi/aws";
import { DeployContext, tagsOf } from "./context";

/** SQS keeps a message's original enqueue time when it is dead-lettered: keep failures the maximum 14 days. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;

/**
 * The shipper's one dead-letter queue: where the S3 event queue redrives poison messages, and
 * the on-failure destination of Kinesis mappings and of asynchronous invocations (CloudWatch
 * Logs, S3 direct, EventBridge). Encrypted with SQS-managed keys, which S3 and EventBridge can
 * use without a key policy.
 */
export function declareDeadLetterQueue(ctx: DeployContext): aws.sqs.Queue {
  return new aws.sqs.Queue(
    `${ctx.name}-dead-letter`,
    { messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS, sqsManagedSseEnabled: true, ...tagsOf(ctx) },
    { parent: ctx.parent },
  );
}
