/** S3 source, direct delivery: each bucket notifies the function itself. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { encodeNotificationKey } from "../handler/sources/s3-notification";
import { DeployContext } from "./context";
import { AUTONAME_LIMIT, fitLogicalName, slug } from "./names";
import { bucketArn } from "./policies";
import { BucketSource } from "./settings";

export const OBJECT_CREATED = ["s3:ObjectCreated:*"];

/**
 * A notification's key filters: only the ones that are set, URL-encoded as S3 wants them (it
 * matches them against the encoded key: a space is `+`, other special characters percent-encoded).
 * A Hive-compatible prefix such as `AWSLogs/aws-account-id=123456789012/` written as is matched
 * no object, and nothing was shipped, silently.
 */
export function keyFilters(bucket: BucketSource): { filterPrefix?: string; filterSuffix?: string } {
  return {
    ...(bucket.prefix ? { filterPrefix: encodeNotificationKey(bucket.prefix) } : {}),
    ...(bucket.suffix ? { filterSuffix: encodeNotificationKey(bucket.suffix) } : {}),
  };
}

export function configuredBucketArn(ctx: DeployContext, bucket: BucketSource): pulumi.Output<string> {
  return ctx.target.partition.apply((p) => bucketArn(p, bucket.name));
}

export interface DirectBucket {
  permission: aws.lambda.Permission;
  notification: aws.s3.BucketNotification;
}

/**
 * Note: a bucket has one notification configuration; `aws.s3.BucketNotification` owns all of it,
 * so notifications configured elsewhere on these buckets are replaced.
 */
export function declareDirectBuckets(ctx: DeployContext, fn: aws.lambda.Function, buckets: BucketSource[]): DirectBucket[] {
  const opts = { parent: ctx.parent };
  return buckets.map((bucket) => {
    const id = slug(bucket.name);
    const permission = new aws.lambda.Permission(
      fitLogicalName(`${ctx.name}-s3-allow-${id}`, AUTONAME_LIMIT.statementId),
      {
        action: "lambda:InvokeFunction",
        function: fn.name,
        principal: "s3.amazonaws.com",
        sourceArn: configuredBucketArn(ctx, bucket),
        sourceAccount: ctx.target.accountId,
      },
      opts,
    );
    const notification = new aws.s3.BucketNotification(
      `${ctx.name}-s3-${id}`,
      { bucket: bucket.name, lambdaFunctions: [{ lambdaFunctionArn: fn.arn, events: OBJECT_CREATED, ...keyFilters(bucket) }] },
      // S3 checks that it may invoke the function when the notification is put.
      { ...opts, dependsOn: [permission] },
    );
    return { permission, notification };
  });
}
